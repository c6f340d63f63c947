// A scripted OpenAI-compatible Chat Completions server on loopback: the only stand-in in these
// tests (for the outside LLM provider). First turn: it calls the `add_task` tool; once the
// tool's result is in the conversation, it answers in words. Streams when asked to.
const http = require("node:http");

function startScriptedLlm() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      if (!req.url.endsWith("/chat/completions")) { res.writeHead(404).end(); return; }
      const request = JSON.parse(body || "{}");
      requests.push(request);
      const messages = request.messages || [];
      const toolDone = messages.some((m) => m.role === "tool");
      const base = { id: `chatcmpl-${requests.length}`, object: "chat.completion", created: Math.floor(Date.now() / 1000), model: request.model || "scripted" };
      const call = { id: "call_1", type: "function", function: { name: "add_task", arguments: JSON.stringify({ title: "Buy bread", priority: "high" }) } };
      const text = "Added “Buy bread” with high priority.";
      if (!request.stream) {
        const message = toolDone ? { role: "assistant", content: text } : { role: "assistant", content: null, tool_calls: [call] };
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ...base, choices: [{ index: 0, message, finish_reason: toolDone ? "stop" : "tool_calls" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const chunk = (delta, finish = null) => res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
      if (toolDone) {
        chunk({ role: "assistant", content: "" });
        for (const word of text.split(/(?<= )/)) chunk({ content: word });
        chunk({}, "stop");
      } else {
        chunk({ role: "assistant", content: null, tool_calls: [{ index: 0, ...call }] });
        chunk({}, "tool_calls");
      }
      res.end("data: [DONE]\n\n");
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

module.exports = { startScriptedLlm };
