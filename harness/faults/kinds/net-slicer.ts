import { z } from "zod";
import { nonNegInt, toxicInjector } from "../toxic.js";

export const netSlicer = toxicInjector({
  kind: "net-slicer",
  type: "slicer",
  summary: "Slice data into small pieces with a delay in µs between them (Toxiproxy slicer)",
  // average_size 0 makes Toxiproxy recurse without end: rejected.
  attributes: {
    average_size: z.number().int().positive(),
    size_variation: nonNegInt.default(0),
    delay: nonNegInt.default(0),
  },
  describe: (a) => `sliced into ~${a.average_size}±${a.size_variation} byte pieces, ${a.delay}µs apart`,
});
