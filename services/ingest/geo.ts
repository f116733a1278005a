/**
 * IP geolocation with the GeoLite data that ships inside the `geoip-lite` npm package. Loading it
 * costs about 180 MB of memory and a second of start-up, so it is loaded once at start and only
 * when `MIXSTACK_GEOIP` is on; with it off, the package is never required.
 */

export interface GeoLocation {
  city?: string;
  /** ISO 3166-2 subdivision code (`ENG`, `CA`), as the free data has it. */
  region?: string;
  countryCode?: string;
  timezone?: string;
}

export type GeoLookup = (address: string) => GeoLocation | undefined;

export const noGeolocation: GeoLookup = () => undefined;

/** Loads the database synchronously (before the server listens, so no request waits for it). */
export function loadGeoLookup(): GeoLookup {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const geoip = require("geoip-lite") as {
    lookup(address: string): { country: string; region: string; city: string; timezone: string } | null;
  };
  return (address) => {
    const found = geoip.lookup(address);
    if (!found) return undefined;
    const location: GeoLocation = {};
    if (found.city) location.city = found.city;
    if (found.region) location.region = found.region;
    if (found.country) location.countryCode = found.country;
    if (found.timezone) location.timezone = found.timezone;
    return location.countryCode || location.city ? location : undefined;
  };
}
