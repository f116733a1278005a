import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One IAM policy statement; every role of the stack is built from explicit statements like these. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  /** ARNs may be outputs of the resources they name; the document is written once they are known. */
  Resource: pulumi.Input<string> | pulumi.Input<string>[];
  Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

export type ResolvedStatement = pulumi.Unwrap<PolicyStatement>;

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: ResolvedStatement[];
}

export function policyDocument(statements: ResolvedStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** The trust policy that lets one AWS service (ecs-tasks, ec2, scheduler, dlm) assume a role. */
export function trustPolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

export interface RoleWithPolicy {
  role: aws.iam.Role;
  /** Whatever uses the role must wait for this too: a role without its policy can do nothing yet. */
  policy: aws.iam.RolePolicy;
}

/**
 * A role with one inline policy made of exactly the given statements (no managed policies: what a
 * role may do is visible here and in the tests). Statements are resolved once their ARNs are known.
 */
export function roleWithPolicy(
  name: string,
  args: { service: string; description: string; statements: PolicyStatement[] },
  opts: pulumi.CustomResourceOptions,
): RoleWithPolicy {
  const role = new aws.iam.Role(name, { assumeRolePolicy: trustPolicy(args.service), description: args.description }, opts);
  const policy = new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.name,
      policy: pulumi.output(args.statements).apply((statements) => JSON.stringify(policyDocument(statements as ResolvedStatement[]))),
    },
    opts,
  );
  return { role, policy };
}
