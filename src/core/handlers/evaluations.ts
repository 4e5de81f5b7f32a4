import type { MethodName, MethodResults, ParsedArgs } from '../../shared/contract'
import type { EvaluationManager } from '../jobs/evaluation-jobs'

type EvalMethods = Extract<MethodName, `evaluations.${string}`>
export type EvalHandlers = {
  [M in EvalMethods]: (args: ParsedArgs<M>) => Promise<MethodResults[M]> | MethodResults[M]
}

/** Contract methods of the downstream check. */
export function evaluationHandlers(evaluations: EvaluationManager): EvalHandlers {
  return {
    'evaluations.start': (a) => evaluations.start(a),
    'evaluations.list': ({ generationId }) => evaluations.list(generationId),
    'evaluations.get': ({ evaluationId }) => evaluations.get(evaluationId),
    'evaluations.cancel': ({ evaluationId }) => ({ cancelled: evaluations.cancel(evaluationId) }),
  }
}
