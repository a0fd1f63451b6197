/**
 * The articles the rules cite, defined once so the wording (and the interpretation notes) stays the
 * same everywhere. GDPR: Regulation (EU) 2016/679. LGPD: Lei 13.709/2018. Marco Civil: Lei 12.965/2014.
 */
import type { ArticleRef } from "./common";

const gdpr = (article: string, interpretation?: string): ArticleRef => ({ law: "GDPR", article, interpretation });
const lgpd = (article: string, interpretation?: string): ArticleRef => ({ law: "LGPD", article, interpretation });

export const A = {
  // Security of processing / integrity and confidentiality.
  gdpr5_1_f: gdpr("Art. 5(1)(f)"),
  gdpr5_1_c: gdpr("Art. 5(1)(c)"),
  gdpr25_1: gdpr("Art. 25(1)"),
  gdpr25_2: gdpr("Art. 25(2)"),
  gdpr32_1_a: gdpr("Art. 32(1)(a)"),
  gdpr32_1_b: gdpr("Art. 32(1)(b)"),
  gdpr32_1_c: gdpr("Art. 32(1)(c)"),
  gdpr32_4: gdpr("Art. 32(4)"),
  lgpd6_vii: lgpd("Art. 6 VII"),
  lgpd6_iii: lgpd("Art. 6 III"),
  lgpd46: lgpd("Art. 46"),
  lgpd47: lgpd("Art. 47"),
  lgpd49: lgpd("Art. 49"),
  // Key rotation is nowhere in either text: it is how the project keeps encryption "state of the art".
  gdpr32_1_a_rotation: gdpr(
    "Art. 32(1)(a)",
    "Rotation is not named in the text; the project reads 'state of the art' encryption as keys that rotate.",
  ),
  lgpd46_rotation: lgpd(
    "Art. 46",
    "Rotation is not named in the text; the project reads 'medidas de segurança, técnicas' as keys that rotate.",
  ),
  // Storage limitation, erasure and its deadline.
  gdpr5_1_e: gdpr("Art. 5(1)(e)"),
  gdpr17_1: gdpr("Art. 17(1)"),
  gdpr12_3: gdpr("Art. 12(3)"),
  lgpd15: lgpd("Art. 15"),
  lgpd16: lgpd("Art. 16"),
  lgpd18_vi: lgpd("Art. 18 VI"),
  lgpd19_ii: lgpd("Art. 19 II"),
  gdpr5_1_e_ceilings: gdpr(
    "Art. 5(1)(e)",
    "The text sets no number of days; the ceilings per data class are the project's own.",
  ),
  lgpd15_ceilings: lgpd(
    "Art. 15",
    "The text sets no number of days; the ceilings per data class are the project's own.",
  ),
  // Transfers and residency.
  gdpr44: gdpr(
    "Art. 44",
    "GDPR restricts transfers rather than forbidding them; the project keeps each cell's data in its region so that no Chapter V transfer happens at all.",
  ),
  lgpd33: lgpd(
    "Art. 33",
    "LGPD allows international transfers in the cases listed; the project keeps Brazilian data in Brazil so that none is needed.",
  ),
  // Records, accountability, audit.
  gdpr5_2: gdpr("Art. 5(2)"),
  gdpr30: gdpr("Art. 30"),
  gdpr30_identities: gdpr(
    "Art. 30(1)",
    "Art. 30 asks for records of processing activities; the project reads it as every machine identity stating what it processes.",
  ),
  gdpr33: gdpr("Art. 33"),
  gdpr32_1_d: gdpr("Art. 32(1)(d)"),
  lgpd37: lgpd("Art. 37"),
  lgpd37_identities: lgpd(
    "Art. 37",
    "Art. 37 asks for records of processing operations; the project reads it as every machine identity stating what it processes.",
  ),
  lgpd6_x: lgpd("Art. 6 X"),
  lgpd48: lgpd("Art. 48"),
  marcoCivil15: { law: "Marco Civil", article: "Art. 15" } as ArticleRef,
  gdpr30_auditFloor: gdpr(
    "Art. 30",
    "No retention period for audit logs is set by GDPR; the one-year floor for eu is the project's own.",
  ),
  // Pseudonymisation.
  gdpr4_5: gdpr("Art. 4(5)"),
  gdpr32_1_a_pseudo: gdpr("Art. 32(1)(a)"),
  lgpd13_4: lgpd(
    "Art. 13 §4",
    "LGPD defines pseudonymisation in the research article; the project applies the definition to all processing.",
  ),
  lgpd12: lgpd("Art. 12"),
  // Long-lived credentials.
  gdpr32_1_b_keys: gdpr(
    "Art. 32(1)(b)",
    "The text does not mention credentials; the project reads 'ongoing confidentiality' as no long-lived keys.",
  ),
  lgpd46_keys: lgpd("Art. 46", "The text does not mention credentials; the project reads it as no long-lived keys."),
} as const;
