import type { z } from 'zod'

const number = (n: unknown): string =>
  typeof n === 'number' || typeof n === 'bigint' ? n.toLocaleString('en-US') : String(n)

/** "datasetId" → "Dataset id": the name of a field that has no label of its own. */
const humanize = (key: string): string => {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/**
 * A zod error map that says what is wrong in plain words, naming the field (by its label where it
 * has one) and its limit: "Epochs must be at least 1" instead of zod's "Too small: expected number
 * to be >=1". A message a schema gives itself wins over this one (zod's precedence), and issues
 * without a plain form keep zod's own message.
 */
export function plainErrors(labels: Readonly<Record<string, string>>): z.core.$ZodErrorMap {
  return (issue) => {
    const key = [...(issue.path ?? [])].reverse().find((p) => typeof p === 'string')
    const field = key === undefined ? 'The value' : (labels[key] ?? humanize(key))
    switch (issue.code) {
      case 'too_small':
        if (issue.origin !== 'number' && issue.origin !== 'int') return undefined
        return `${field} must be ${issue.inclusive ? 'at least' : 'above'} ${number(issue.minimum)}`
      case 'too_big':
        if (issue.origin !== 'number' && issue.origin !== 'int') return undefined
        return `${field} must be ${issue.inclusive ? 'at most' : 'below'} ${number(issue.maximum)}`
      case 'invalid_type':
        if (issue.expected === 'int') return `${field} must be a whole number`
        if (issue.expected === 'number')
          return issue.input === undefined ? `${field} is required` : `${field} must be a number`
        if (issue.expected === 'boolean') return `${field} must be on or off (true or false)`
        if (issue.expected === 'string')
          return issue.input === undefined ? `${field} is required` : `${field} must be text`
        return undefined
      case 'invalid_value':
        return `${field} must be one of ${issue.values.map((v) => String(v)).join(', ')}`
      default:
        return undefined
    }
  }
}
