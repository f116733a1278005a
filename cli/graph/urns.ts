/**
 * Resource URNs as the Pulumi engine forms them, and the URNs a resource's aliases stand for.
 * A URN is what the engine matches between two deployments: a resource whose URN changes (type,
 * name or a parent's type) is deleted and created again unless an alias names its old URN.
 * Mocks do not form URNs the engine's way (they keep only the parent's last type), so the offline
 * evaluation computes them here from what the stack transformation saw.
 */

/** One resource as registered: its type, name, parent (undefined: the stack) and aliases. */
export interface UrnNode {
  type: string;
  name: string;
  parent?: UrnNode;
  aliases: AliasSpec[];
}

/** An alias as the program gave it: a whole URN, or the parts that changed. */
export type AliasSpec = { urn: string } | { name?: string; type?: string; parent?: UrnNode | "stack" };

interface Identity {
  /** `parentType$...$type`, the stack's own type left out. */
  qualifiedType: string;
  name: string;
}

export function urnOf(node: UrnNode, project: string, stack: string): string {
  return format(identities(node)[0]!, project, stack);
}

/** The old URNs this resource answers to, through its own aliases and its parents'. */
export function aliasUrns(node: UrnNode, project: string, stack: string): string[] {
  const current = urnOf(node, project, stack);
  const all = identities(node).map((identity) => format(identity, project, stack));
  for (const alias of node.aliases) if ("urn" in alias) all.push(alias.urn);
  return [...new Set(all)].filter((urn) => urn !== current);
}

function format(identity: Identity, project: string, stack: string): string {
  return `urn:pulumi:${stack}::${project}::${identity.qualifiedType}::${identity.name}`;
}

function child(parent: Identity | undefined, type: string, name: string): Identity {
  return { qualifiedType: parent ? `${parent.qualifiedType}$${type}` : type, name };
}

/** The current identity first, then every aliased one (Pulumi's rule: a parent's aliases carry over to its children). */
function identities(node: UrnNode): Identity[] {
  const parents: Array<Identity | undefined> = node.parent ? identities(node.parent) : [undefined];
  const found: Identity[] = [];
  const parentName = node.parent?.name;
  parents.forEach((parent, index) => {
    // A child named after its parent is renamed with it (`${parent}-data` follows an aliased parent name).
    const inherited = index > 0 && parent && parentName !== undefined && node.name.startsWith(parentName) ? parent.name + node.name.slice(parentName.length) : node.name;
    found.push(child(parent, node.type, inherited));
  });
  for (const alias of node.aliases) {
    if ("urn" in alias) continue;
    const aliasParents =
      alias.parent === "stack" ? [undefined] : alias.parent ? [identities(alias.parent)[0]] : parents;
    for (const parent of aliasParents) found.push(child(parent, alias.type ?? node.type, alias.name ?? node.name));
  }
  return found;
}
