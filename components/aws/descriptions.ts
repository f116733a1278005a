/**
 * Descriptions AWS accepts. EC2 security groups and their rules allow only letters, digits, spaces
 * and `._-:/()#,@[]+=&;{}!$*`; DLM policies only letters, digits, spaces, `_` and `-`. Anything
 * else fails `pulumi up` at the API, not at preview, so every such description goes through here.
 */
export function securityGroupText(text: string): string {
  return text
    .replace(/\s*->\s*/g, " to ")
    .replace(/'/g, "")
    .replace(/[^A-Za-z0-9. _\-:/()#,@[\]+=&;{}!$*]/g, " ")
    .slice(0, 255);
}

export function lifecyclePolicyText(text: string): string {
  return text.replace(/[^0-9A-Za-z _-]/g, " ").replace(/ +/g, " ").trim().slice(0, 500);
}

export const SECURITY_GROUP_TEXT = /^[A-Za-z0-9. _\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
export const LIFECYCLE_POLICY_TEXT = /^[0-9A-Za-z _-]{1,500}$/;
