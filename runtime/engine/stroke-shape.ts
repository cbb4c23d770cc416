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

/** The stroke-shape evidence of one 28×28 image at `offset`. Pure. */
export function strokeShape(pixels: ArrayLike<number>, offset: number): StrokeShape {
  let mass = 0;
  let edges = 0;
  let ink = 0;
  let interior = 0;
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= SIDE || y >= SIDE ? 0 : pixels[offset + y * SIDE + x]);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = at(x, y);
      mass += v;
      if (x + 1 < SIDE) edges += Math.abs(v - at(x + 1, y));
      if (y + 1 < SIDE) edges += Math.abs(v - at(x, y + 1));
      if (v < 0.5) continue;
      ink++;
      let filled = true;
      for (let dy = -1; dy <= 1 && filled; dy++) for (let dx = -1; dx <= 1; dx++) if (at(x + dx, y + dy) < 0.5) filled = false;
      if (filled) interior++;
    }
  }
  return { edgeDensity: mass > 0 ? edges / mass : 0, interiorShare: ink > 0 ? interior / ink : 0 };
}
