// Starts the real `todo` binary on a free port with a fresh SQLite database in a temp folder,
// and stops it. The port comes from the server's own "listening" log line (PORT=0). Rate limits are
// at their defaults, as a user meets them: the app must work within them in normal use (a test
// about limits lowers them; seeding many tasks goes through one import).
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

async function startServer(extraEnv = {}) {
  const bin = process.env.TODO_BIN;
  if (!bin) throw new Error("set TODO_BIN to the todo binary");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "todo-web-"));
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.DATABASE_URL;
  const child = spawn(bin, ["serve"], {
    env: {
      ...env,
      DATABASE_URL: `sqlite://${dir}/todo.db`,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_FORMAT: "json",
      RUST_LOG: "warn,todo=info,todo_server=info",
      ...extraEnv,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const baseURL = await new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`todo did not start:\n${buffered}`)), 30_000);
    child.on("exit", (code) => reject(new Error(`todo exited with ${code}:\n${buffered}`)));
    child.stderr.on("data", (chunk) => {
      buffered += chunk;
      for (const line of buffered.split("\n")) {
        if (!line.includes("listening")) continue;
        try {
          const entry = JSON.parse(line);
          const address = entry.address || (entry.fields && entry.fields.address);
          if (address) {
            clearTimeout(timer);
            resolve(`http://${address}`);
            return;
          }
        } catch (_) { /* a partial line */ }
      }
    });
  });
  child.stderr.removeAllListeners("data");
  child.stderr.resume();
  return {
    baseURL,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startServer };
