// Launches the Bluesky reference servers from @atproto/dev-env for govsocial.
//
// Config: JSON, from the env var GOVSOCIAL_BSKY_DEVSERVER_CONFIG (preferred,
// keeps passwords out of `ps`), or argv[2] (inline JSON or a file path):
//   {
//     "modules_dir": "/path/with/node_modules",  // where `npm ci` ran
//     "appview": false,
//     "plc_port": 0, "pds_port": 0,              // 0/absent: dev-env picks
//     "bsky_port": 0, "ozone_port": 0,           // appview only
//     "postgres_url": "postgresql://...",        // appview only (or env DB_POSTGRES_URL)
//     "postgres_schema": "letters_only",         // appview only, unique per run
//     "redis_host": "127.0.0.1:6379",            // appview only (or env REDIS_HOST)
//     "accounts": [{"handle": "alice.test", "password": "..."}],
//     "app_password_name": "govsocial",
//     "cleanup_dir": "/tmp/..."                  // removed on shutdown (TMPDIR)
//   }
// Special mode {"drop_schema": "name", "postgres_url": "..."} only drops the
// Postgres schemas of an earlier appview run and exits.
//
// Stdout carries exactly one JSON line once the network is up:
//   {"pds_url", "plc_url", "appview_url", "accounts": [{handle, did, password, app_password}]}
// Everything else goes to stderr. The process stays up until stdin closes or
// SIGTERM/SIGINT arrives, then closes the network and exits.

import dns from 'node:dns'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

// ---- keep stdout for the single ready line ---------------------------------
const writeStdout = process.stdout.write.bind(process.stdout)
process.stdout.write = process.stderr.write.bind(process.stderr)
for (const m of ['log', 'info', 'debug']) console[m] = console.error
const log = (...args) => console.error('[govsocial-bsky]', ...args)

// ---- loopback only ----------------------------------------------------------
// dev-env's servers call listen(port) which binds every interface; force
// 127.0.0.1, and make "localhost" (used in all dev-env URLs) resolve there.
const LOOPBACK = '127.0.0.1'
dns.setDefaultResultOrder('ipv4first')
const origListen = net.Server.prototype.listen
net.Server.prototype.listen = function listen(...args) {
  const first = args[0]
  if (args.length === 0 || typeof first === 'function') {
    args.unshift({ port: 0, host: LOOPBACK })
  } else if (
    typeof first === 'number' ||
    (typeof first === 'string' && /^\d+$/.test(first))
  ) {
    if (typeof args[1] !== 'string') args.splice(1, 0, LOOPBACK)
  } else if (
    first !== null &&
    typeof first === 'object' &&
    !('path' in first) &&
    !('fd' in first) &&
    !('_handle' in first) &&
    !('handle' in first) &&
    first.host === undefined
  ) {
    args[0] = { ...first, host: LOOPBACK }
  }
  return origListen.apply(this, args)
}

// ---- config -----------------------------------------------------------------
function readConfig() {
  const raw = process.env.GOVSOCIAL_BSKY_DEVSERVER_CONFIG ?? process.argv[2]
  if (!raw) throw new Error('no config: set GOVSOCIAL_BSKY_DEVSERVER_CONFIG')
  const text = raw.trimStart().startsWith('{')
    ? raw
    : fs.readFileSync(raw, 'utf8')
  return JSON.parse(text)
}

const cfg = readConfig()
// Remove the config (it holds passwords) from the environment children see.
delete process.env.GOVSOCIAL_BSKY_DEVSERVER_CONFIG

const modulesDir = cfg.modules_dir ?? process.cwd()
const requireFromCache = createRequire(path.join(modulesDir, 'package.json'))
const importFromCache = (name) =>
  import(pathToFileURL(requireFromCache.resolve(name)).href)

const SCHEMA_RE = /^[A-Za-z_]+$/
const schemaNames = (base) =>
  ['appview', 'bsync', 'ozone'].map((p) => `${p}_${base}`)

async function dropSchemas(postgresUrl, base) {
  if (!postgresUrl || !base || !SCHEMA_RE.test(base)) return
  const pg = requireFromCache('pg')
  const client = new pg.Client({ connectionString: postgresUrl })
  await client.connect()
  try {
    for (const name of schemaNames(base)) {
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
    }
  } finally {
    await client.end()
  }
}

function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function createAccounts(network, accounts, appPasswordName) {
  const sc = network.getSeedClient()
  const out = []
  for (const { handle, password } of accounts ?? []) {
    const local = handle.split('.')[0]
    const account = await sc.createAccount(local, {
      handle,
      email: `${local}@example.com`,
      password,
    })
    let appPassword = null
    try {
      const res = await sc.agent.com.atproto.server.createAppPassword(
        { name: appPasswordName ?? 'govsocial' },
        { encoding: 'application/json', headers: sc.getHeaders(account.did) },
      )
      appPassword = res.data.password
    } catch (err) {
      log(`createAppPassword failed for ${handle}: ${err?.message ?? err}`)
    }
    out.push({
      handle: account.handle,
      did: account.did,
      password,
      app_password: appPassword,
    })
  }
  return out
}

async function startNetwork(devEnv) {
  if (!cfg.appview) {
    return devEnv.TestNetworkNoAppView.create({
      plc: cfg.plc_port ? { port: cfg.plc_port } : {},
      pds: cfg.pds_port ? { port: cfg.pds_port } : {},
    })
  }
  const postgresUrl = cfg.postgres_url ?? process.env.DB_POSTGRES_URL
  const schema = cfg.postgres_schema
  if (!postgresUrl) throw new Error('appview needs postgres_url or DB_POSTGRES_URL')
  if (!schema || !SCHEMA_RE.test(schema)) {
    throw new Error('appview needs postgres_schema of letters/underscores only')
  }
  process.env.DB_POSTGRES_URL = postgresUrl
  process.env.REDIS_HOST = cfg.redis_host ?? process.env.REDIS_HOST ?? '127.0.0.1:6379'
  return devEnv.TestNetwork.create({
    dbPostgresUrl: postgresUrl,
    dbPostgresSchema: schema,
    plc: cfg.plc_port ? { port: cfg.plc_port } : {},
    pds: cfg.pds_port ? { port: cfg.pds_port } : {},
    bsky: cfg.bsky_port ? { port: cfg.bsky_port } : {},
    ozone: cfg.ozone_port ? { port: cfg.ozone_port } : {},
  })
}

async function main() {
  if (cfg.drop_schema) {
    await dropSchemas(cfg.postgres_url ?? process.env.DB_POSTGRES_URL, cfg.drop_schema)
    return
  }

  process.on('unhandledRejection', (err) => log('unhandled rejection:', err))

  let network = null
  let stopping = null
  const postgresUrl = cfg.postgres_url ?? process.env.DB_POSTGRES_URL

  const shutdown = (why) => {
    if (stopping) return stopping
    log(`shutting down (${why})`)
    stopping = (async () => {
      let code = 0
      if (network) {
        try {
          await withTimeout(network.close(), 30_000, 'network.close()')
        } catch (err) {
          code = 1
          log('close failed:', err)
        }
      }
      if (cfg.appview) {
        try {
          await dropSchemas(postgresUrl, cfg.postgres_schema)
        } catch (err) {
          code = 1
          log('dropping schemas failed:', err)
        }
      }
      if (cfg.cleanup_dir) {
        try {
          fs.rmSync(cfg.cleanup_dir, { recursive: true, force: true })
        } catch (err) {
          log('removing the temp dir failed:', err)
        }
      }
      process.exit(code)
    })()
    return stopping
  }

  // Never outlive the parent: stdin EOF covers a dead parent; the ppid check
  // covers a parent that died while something else still holds the pipe.
  const parentPid = process.ppid
  setInterval(() => {
    if (process.ppid !== parentPid) void shutdown('parent exited')
  }, 1000).unref()
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.stdin.on('data', () => {})
  process.stdin.on('end', () => void shutdown('stdin closed'))
  process.stdin.on('error', () => void shutdown('stdin error'))

  const started = Date.now()
  const devEnv = await importFromCache('@atproto/dev-env')
  try {
    network = await startNetwork(devEnv)
  } catch (err) {
    if (cfg.appview) await dropSchemas(postgresUrl, cfg.postgres_schema).catch(() => {})
    throw err
  }
  if (stopping) return
  const accounts = await createAccounts(network, cfg.accounts, cfg.app_password_name)
  if (cfg.appview) await network.processAll()
  log(`network up in ${Date.now() - started} ms`)

  const ready = {
    pds_url: network.pds.url,
    plc_url: network.plc.url,
    appview_url: cfg.appview ? network.bsky.url : null,
    accounts,
  }
  writeStdout(`${JSON.stringify(ready)}\n`)
}

main().catch((err) => {
  log('fatal:', err?.stack ?? err)
  process.exit(1)
})
