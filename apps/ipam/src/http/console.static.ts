/**
 * The web console (apps/console, built by `npm run build` into dist/console) served at / on the HTTP
 * port: its hashed assets under /assets/, and index.html for any other page a browser asks for (the
 * console's own paths such as /pools/default-ip-pool), never for the API's paths.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

/** Paths that are the API's, never the console's (the SPA fallback leaves them to their routes). */
export const API_PATHS = /^\/(v1|healthz|readyz|metrics|docs|openapi\.json|openapi\.yaml|assets)(\/|$)/;

/** The console's page only loads what it brings along, and talks only to this origin. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** dist/console: next to the compiled service (dist/apps/...), or under dist/ when run from the sources. */
export function consoleDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '..', '..', '..', '..');
  for (const dir of [join(root, 'console'), join(root, 'dist', 'console')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

/** Serves the console when it has been built; returns its directory, or null when it has not. */
export function serveConsole(app: NestExpressApplication, dir: string | null = consoleDir()): string | null {
  if (dir === null) return null;
  const index = join(dir, 'index.html');
  app.useStaticAssets(join(dir, 'assets'), {
    prefix: '/assets/',
    index: false,
    immutable: true,
    maxAge: '365d',
    fallthrough: true,
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PATHS.test(req.path)) return next();
    if (req.path === '/favicon.svg') {
      res.sendFile(join(dir, 'favicon.svg'), (err) => err && next());
      return;
    }
    if (!req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.sendFile(index, (err) => err && next(err));
  });
  return dir;
}
