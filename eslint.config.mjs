import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/*.config.*", ".changeset/**", "**/*.mjs", "**/*.cjs", "**/*.js",
    // Consumer projects, compiled by the consumer tests against the packed packages.
    "packages/consumer-tests/fixtures/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": ["error", { selector: "ExportAllDeclaration", message: "Use named exports, not export *." }],
      "no-restricted-imports": ["error", { patterns: [{ group: ["@zrpc/*/src/*", "@zrpc/*/src"], message: "Import the package's public entry." }] }],
    },
  },
  {
    files: ["packages/*/src/**/*.ts"],
    ignores: ["packages/conformance/**", "packages/bench/**", "packages/cli/**"],
    rules: { "no-console": "error" },
  },
  {
    // Four parameters at most; more go in an options object. The typescript-eslint version of the
    // rule does not count a `this` parameter.
    files: ["packages/*/src/**/*.ts"],
    rules: { "@typescript-eslint/max-params": ["error", { max: 4 }] },
  },
  {
    files: ["**/test/**/*.ts", "**/bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
