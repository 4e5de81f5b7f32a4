/** The maths backends Synthfold can train on, best first where each is available. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu'

export interface BackendInfo {
  backend: BackendName
  /** What runs the maths: a GPU's name, or a CPU description. */
  device: string
  /** Why each better backend was not used, best first. */
  notes: string[]
  threads: number
  simd: boolean
}
