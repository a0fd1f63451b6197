// ESLint (flat config) with typescript-eslint. @pulumi/eslint-plugin 0.3.1 is published without its
// built files, so its one check (an Output inside a template literal) comes from typescript-eslint's
// type-aware `restrict-template-expressions`, which rejects any non-primitive in a template literal.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "policy/node_modules/**",
      "functions/dataflow-udf/**",
      "**/*.js",
      "**/*.mjs",
      "docs/**",
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowAny: false, allowRegExp: false },
      ],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // Chai assertions are property accesses (`expect(x).to.exist`); tests probe recorded JSON, whose
    // shape is what they assert, so `any` and loose template values are allowed there (only there).
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-expressions": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/restrict-template-expressions": "off",
    },
  },
  {
    // Pulumi components register children in constructors: `new X(...)` for its side effect is the idiom.
    files: ["components/**/*.ts", "index.ts"],
    rules: { "no-new": "off" },
  },
);
