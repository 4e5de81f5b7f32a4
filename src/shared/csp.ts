/**
 * One Content-Security-Policy for both shells: scripts and styles only from the app itself, images
 * from the app, its media protocol and blobs, network only back to the app (HTTP API and events).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' synthfold-media: blob: data:",
  "font-src 'self'",
  "connect-src 'self'",
  // the export report, shown in a sandboxed frame
  "frame-src 'self' synthfold-media:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ')
