/** Adam (Kingma & Ba 2015) over one flat parameter vector, with global-norm gradient clipping. */

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Rescale the gradient when its L2 norm exceeds this (LSTMs can have exploding gradients). */
  clipNorm?: number;
}

export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  learningRate: number;

  constructor(size: number, private readonly o: AdamOptions) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
    this.learningRate = o.learningRate;
  }

  /** θ ← θ − lr · m̂ / (√v̂ + ε); returns the gradient's norm before clipping. */
  step(params: Float64Array, grad: Float64Array): number {
    const b1 = this.o.beta1 ?? 0.9, b2 = this.o.beta2 ?? 0.999, eps = this.o.epsilon ?? 1e-8;
    let sq = 0;
    for (let i = 0; i < grad.length; i++) sq += grad[i]! * grad[i]!;
    const norm = Math.sqrt(sq);
    const scale = this.o.clipNorm !== undefined && norm > this.o.clipNorm ? this.o.clipNorm / norm : 1;
    this.t++;
    const c1 = 1 - b1 ** this.t, c2 = 1 - b2 ** this.t;
    const { m, v } = this;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i]! * scale;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      params[i] = params[i]! - (this.learningRate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
    }
    return norm;
  }
}
