/**
 * Entry point for the Pulumi CLI (`pulumi preview --policy-pack policy`). Constructing a PolicyPack
 * starts the analyzer's gRPC server, so nothing else imports this file: tests and the offline gate
 * import `./policies` and serve it through `@pulumi/policy/server` in a child process.
 */
// First: the server decodes a resource's properties once per request, not once per policy.
import "./deserialize-once";
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  policies,
  // Every policy sets its own level; this applies only to a policy that would not.
  enforcementLevel: "mandatory",
  displayName: "Lakehouse compliance (GDPR and LGPD)",
  description:
    "Encryption with customer-managed keys, TLS, residency per cell, retention and erasure bounds, no public access, least privilege, audit logging and deletion protection, each rule mapped to GDPR and LGPD articles.",
  tags: ["gdpr", "lgpd", "aws", "gcp"],
});
