/**
 * The values the four default tag properties may take (`mp_lib`, `$os`, `$browser`,
 * `mp_country_code`). Tags are indexed: every distinct value is a series of its own, and clients
 * set them all, so each is kept to a known vocabulary. A value is matched without regard to case
 * and stored the way the SDKs spell it; anything else becomes `Other` (`other` for `mp_lib`), and a
 * country that is not an ISO 3166-1 code is left out (ingest's GeoIP country already won over a sent
 * one). Other `EVENT_TAGS` an operator adds have a daily budget of new values instead (`name-budget.ts`).
 */

/** What mixpanel-browser reports, what the mobile SDKs send (`systemName`, `Platform.OS`), and common others. */
const OPERATING_SYSTEMS = [
  "Windows", "Mac OS X", "macOS", "Linux", "Chrome OS", "iOS", "iPadOS", "watchOS", "tvOS", "visionOS", "Android",
  "BlackBerry", "Windows Phone", "Windows Mobile", "iPad", "iPhone", "iPod Touch", "Ubuntu", "Debian", "Fedora",
  "FreeBSD", "Tizen", "KaiOS", "HarmonyOS", "Fire OS", "webOS", "Roku", "PlayStation", "Xbox", "Web",
];

/** mixpanel-browser's browser names (`_.info.browser`), and common others. */
const BROWSERS = [
  "Chrome", "Chrome iOS", "Firefox", "Firefox iOS", "Safari", "Mobile Safari", "Microsoft Edge", "Opera", "Opera Mini",
  "Internet Explorer", "Internet Explorer Mobile", "Samsung Internet", "Facebook Mobile", "UC Browser", "Android Mobile",
  "Konqueror", "BlackBerry", "Mozilla", "Whale Browser", "Brave", "Vivaldi", "Yandex", "DuckDuckGo", "Electron",
];

/** The `mp_lib` of Mixpanel's SDKs and of the common forwarders. */
const LIBRARIES = [
  "web", "node", "android", "iphone", "swift", "react-native", "flutter", "unity", "python", "ruby", "php", "java", "go",
  "dotnet", "csharp", "objc", "segment", "rudderstack", "mparticle", "freshpaint", "http",
];

/** ISO 3166-1 alpha-2, plus the `EU`/`AP` and `XK` (Kosovo) that GeoIP data uses. */
const COUNTRIES = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG " +
  "CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL " +
  "GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA " +
  "LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP " +
  "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV " +
  "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW EU AP XK"
).split(" ");

function vocabulary(values: readonly string[]): Map<string, string> {
  return new Map(values.map((value) => [value.toLowerCase(), value]));
}

const vocabularies = new Map<string, { known: Map<string, string>; other: string | undefined }>([
  ["$os", { known: vocabulary(OPERATING_SYSTEMS), other: "Other" }],
  ["$browser", { known: vocabulary(BROWSERS), other: "Other" }],
  ["mp_lib", { known: vocabulary(LIBRARIES), other: "other" }],
  ["mp_country_code", { known: vocabulary(COUNTRIES), other: undefined }],
]);

/** Whether `key` is one of the tags with a vocabulary (no budget needed). */
export function hasVocabulary(key: string): boolean {
  return vocabularies.has(key);
}

/** The stored value of tag `key` for a sent (tag-ready) value; undefined: no tag. Other keys pass through. */
export function normaliseTagValue(key: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const rules = vocabularies.get(key);
  if (!rules) return value;
  return rules.known.get(value.trim().toLowerCase()) ?? rules.other;
}
