/**
 * Shape evidence from the MNIST-form pixels: digits are pen strokes, a few pixels wide, while
 * most things that are no digit (a garment, a thumb, a stain) are filled areas. Measured through
 * the runtime's preprocessing on held-out digits against Fashion-MNIST t10k, each alone separates
 * them with AUROC ≈ 0.84–0.88; the confidence mapping weighs them with the MC-dropout figures.
 */
export interface StrokeShape {
  /** Sum of absolute differences between 4-neighbours, per unit of ink mass: high for thin strokes. */
  edgeDensity: number;
  /** Share of ink pixels (≥ 0.5) whose 8 neighbours are all ink: high for filled areas. */
  interiorShare: number;
}

const SIDE = 28;

/**
 * The stroke-shape evidence of one 28×28 image at `offset`. Pure. Direct indexing (no per-pixel
 * closure): part of the engine's JS work per image (#19); the sums run in the same order as the
 * definition, so the figures are bit for bit those the calibration was fitted on.
 */
export function strokeShape(pixels: ArrayLike<number>, offset: number): StrokeShape {
  let mass = 0;
  let edges = 0;
  let ink = 0;
  let interior = 0;
  for (let y = 0; y < SIDE; y++) {
    const row = offset + y * SIDE;
    for (let x = 0; x < SIDE; x++) {
      const i = row + x;
      const v = pixels[i];
      mass += v;
      if (x + 1 < SIDE) edges += Math.abs(v - pixels[i + 1]);
      if (y + 1 < SIDE) edges += Math.abs(v - pixels[i + SIDE]);
      if (v < 0.5) continue;
      ink++;
      // a pixel on the border has a neighbour outside the image, which counts as background
      if (x === 0 || y === 0 || x === SIDE - 1 || y === SIDE - 1) continue;
      if (
        pixels[i - SIDE - 1] >= 0.5 && pixels[i - SIDE] >= 0.5 && pixels[i - SIDE + 1] >= 0.5 &&
        pixels[i - 1] >= 0.5 && pixels[i + 1] >= 0.5 &&
        pixels[i + SIDE - 1] >= 0.5 && pixels[i + SIDE] >= 0.5 && pixels[i + SIDE + 1] >= 0.5
      ) {
        interior++;
      }
    }
  }
  return { edgeDensity: mass > 0 ? edges / mass : 0, interiorShare: ink > 0 ? interior / ink : 0 };
}
