/**
 * A provider the test holds at the gate: its run() has the photo (read from media) when it says
 * `started`, then waits until the test opens the gate, and answers with the photo. It stands in for
 * an AI service that is working while the test breaks something else (the media bucket).
 */
import { Type } from "@sinclair/typebox";
import type { Provider, ProviderContext, ProviderId } from "../../src/providers/types";

export const GATED_ID = "gated" as ProviderId;

export interface Gate {
  provider: Provider;
  /** Resolves with the job id once a run has its inputs. */
  started(): Promise<string>;
  /** Lets every run waiting (and every later one) answer. */
  open(): void;
  /** Holds later runs again. */
  close(): void;
}

export function gatedProvider(): Gate {
  let opened = false;
  const openWaiters: (() => void)[] = [];
  const startWaiters: ((jobId: string) => void)[] = [];
  const provider: Provider = {
    spec: {
      id: GATED_ID,
      label: "Gated (tests)",
      needsPublicUrl: false,
      acceptsHeic: false,
      needsApiKey: false,
      downscaleInputs: false,
      operations: [
        {
          id: "passthrough",
          label: { ru: "Как есть", en: "As is" },
          prompt: "none",
          templates: [],
          needsTestPhoto: true,
          settings: Type.Object({}, { additionalProperties: false }),
        },
      ],
    },
    async run(ctx: ProviderContext) {
      for (const w of startWaiters.splice(0)) w(ctx.jobId);
      if (!opened) await new Promise<void>((resolve) => openWaiters.push(resolve));
      return ctx.photo;
    },
  };
  return {
    provider,
    started: () => new Promise((resolve) => startWaiters.push(resolve)),
    open() {
      opened = true;
      for (const w of openWaiters.splice(0)) w();
    },
    close() {
      opened = false;
    },
  };
}
