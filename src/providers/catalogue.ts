/** The registry of providers and the validation of a slot's provider/operation/settings against it. */
import { Value } from "@sinclair/typebox/value";
import type { Config } from "../config";
import { createGeminiProvider } from "./gemini";
import { localProvider } from "./local";
import { createOpenAIProvider } from "./openai";
import { createTurbotextProvider } from "./turbotext";
import type { OperationSpec, Provider } from "./types";

export interface FieldError {
  field: string;
  message: string;
}

export class ProviderRegistry {
  private readonly byId = new Map<string, Provider>();

  constructor(providers: Provider[]) {
    for (const p of providers) this.byId.set(p.spec.id, p);
  }

  get(id: string): Provider | undefined {
    return this.byId.get(id);
  }

  list(): Provider[] {
    return [...this.byId.values()];
  }

  operation(providerId: string, operationId: string): OperationSpec | undefined {
    return this.get(providerId)?.spec.operations.find((o) => o.id === operationId);
  }

  /**
   * The settings as a job sees them: every setting left out (a slot set by `photochanger slot set`
   * stores only what was given) takes the operation's default. Unknown operations keep them as they are.
   */
  withDefaults(
    providerId: string,
    operationId: string,
    settings: Record<string, unknown>,
  ): Record<string, unknown> {
    const op = this.operation(providerId, operationId);
    if (!op) return settings;
    return Value.Default(op.settings, structuredClone(settings)) as Record<string, unknown>;
  }

  /**
   * Checks provider, operation and settings; on success returns the settings with defaults applied.
   * Errors name the field (`provider`, `operation`, `settings.<name>`) for per-field display.
   */
  validate(
    providerId: string,
    operationId: string,
    settings: unknown,
  ): { ok: true; settings: Record<string, unknown> } | { ok: false; errors: FieldError[] } {
    const provider = this.get(providerId);
    if (!provider) {
      return {
        ok: false,
        errors: [
          { field: "provider", message: `Unknown provider; expected one of ${this.ids().join(", ")}` },
        ],
      };
    }
    const op = this.operation(providerId, operationId);
    if (!op) {
      const ops = provider.spec.operations.map((o) => o.id).join(", ");
      return {
        ok: false,
        errors: [{ field: "operation", message: `Unknown operation; expected one of ${ops}` }],
      };
    }
    if (settings === null || typeof settings !== "object" || Array.isArray(settings)) {
      return { ok: false, errors: [{ field: "settings", message: "Settings must be an object" }] };
    }
    const withDefaults = Value.Default(op.settings, structuredClone(settings)) as Record<string, unknown>;
    const errors: FieldError[] = [];
    for (const e of Value.Errors(op.settings, withDefaults)) {
      const path = e.path.replace(/^\//, "").replaceAll("/", ".");
      const field = path ? `settings.${path}` : "settings";
      if (!errors.some((x) => x.field === field)) errors.push({ field, message: e.message });
    }
    if (op.prompt === "required") {
      const prompt = withDefaults.prompt;
      if (typeof prompt !== "string" || prompt.trim() === "") {
        if (!errors.some((x) => x.field === "settings.prompt")) {
          errors.push({ field: "settings.prompt", message: "This operation needs a prompt" });
        }
      }
    }
    if (!errors.length && op.refine) errors.push(...op.refine(withDefaults));
    return errors.length ? { ok: false, errors } : { ok: true, settings: withDefaults };
  }

  private ids(): string[] {
    return [...this.byId.keys()];
  }
}

/** The providers this build ships, pointed at the base URLs from the config. */
export function defaultProviders(config: Config): Provider[] {
  return [
    createGeminiProvider(config),
    createTurbotextProvider(config),
    createOpenAIProvider(config),
    localProvider,
  ];
}
