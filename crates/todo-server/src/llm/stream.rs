//! Reading a streamed completion: `data:` lines out of the byte stream, and the text and tool
//! calls assembled from their deltas (a tool call arrives in fragments that share an `index`:
//! the first carries its id and name, the rest pieces of the arguments).

use serde_json::Value;
use todo_core::chat::model::{ModelError, ModelReply, ModelToolCall};

use super::arguments_text;

/// Splits a byte stream into the payloads of its `data:` lines.
#[derive(Default)]
pub struct SseLines {
    pending: Vec<u8>,
}

impl SseLines {
    /// The payloads of the lines completed by `bytes`.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if let Some(data) = line.strip_prefix("data:") {
                let data = data.trim();
                if !data.is_empty() {
                    out.push(data.to_owned());
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct PartialCall {
    index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
}

/// Builds the reply out of stream chunks.
#[derive(Default)]
pub struct Assembler {
    content: String,
    calls: Vec<PartialCall>,
}

impl Assembler {
    /// Takes in one chunk; returns the text it added, if any.
    pub fn push(&mut self, chunk: &Value) -> Option<String> {
        let delta = chunk.get("choices")?.get(0)?.get("delta")?;
        if let Some(Value::Array(calls)) = delta.get("tool_calls") {
            for call in calls {
                self.push_call(call);
            }
        }
        let text = delta.get("content").and_then(Value::as_str)?;
        self.content.push_str(text);
        (!text.is_empty()).then(|| text.to_owned())
    }

    fn push_call(&mut self, call: &Value) {
        let index = call.get("index").and_then(Value::as_u64);
        let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
        let function = call.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let fragment = arguments_text(function.and_then(|f| f.get("arguments")));
        // Without an index, a fragment with a new id starts a call; others continue the last.
        let existing = match index {
            Some(index) => self.calls.iter().position(|c| c.index == Some(index)),
            None if !id.is_empty() && self.calls.iter().all(|c| c.id != id) => None,
            None if !id.is_empty() => self.calls.iter().position(|c| c.id == id),
            None => self.calls.len().checked_sub(1),
        };
        let slot = match existing {
            Some(slot) => slot,
            None => {
                self.calls.push(PartialCall {
                    index,
                    ..PartialCall::default()
                });
                self.calls.len() - 1
            }
        };
        let partial = &mut self.calls[slot];
        if partial.id.is_empty() {
            partial.id = id.to_owned();
        }
        if partial.name.is_empty() {
            partial.name = name.to_owned();
        }
        partial.arguments.push_str(&fragment);
    }

    pub fn finish(self) -> Result<ModelReply, ModelError> {
        let mut tool_calls = Vec::with_capacity(self.calls.len());
        for (i, call) in self.calls.into_iter().enumerate() {
            if call.name.is_empty() {
                return Err(ModelError::Failed(
                    "the stream sent a tool call without a name".into(),
                ));
            }
            tool_calls.push(ModelToolCall {
                id: if call.id.is_empty() {
                    format!("call_{i}")
                } else {
                    call.id
                },
                name: call.name,
                arguments: call.arguments,
            });
        }
        Ok(ModelReply {
            content: self.content,
            tool_calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_lines_are_split_across_chunk_boundaries() {
        let mut lines = SseLines::default();
        assert!(lines.push(b"data: {\"a\"").is_empty());
        assert_eq!(
            lines.push(b":1}\r\n\r\n: comment\ndata: [DONE]\n"),
            vec!["{\"a\":1}".to_owned(), "[DONE]".to_owned()]
        );
    }

    #[test]
    fn parallel_tool_calls_are_assembled_by_index() {
        let mut assembler = Assembler::default();
        for chunk in [
            json!({"choices": [{"delta": {"role": "assistant", "content": "On it"}}]}),
            json!({"choices": [{"delta": {"tool_calls": [
                {"index": 0, "id": "a", "type": "function", "function": {"name": "add_task", "arguments": ""}},
                {"index": 1, "id": "b", "type": "function", "function": {"name": "add_task", "arguments": "{\"ti"}}
            ]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"title\":\"x\"}"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"arguments": "tle\":\"y\"}"}}]}}]}),
            json!({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]}),
        ] {
            assembler.push(&chunk);
        }
        let reply = assembler.finish().expect("reply");
        assert_eq!(reply.content, "On it");
        let calls: Vec<(&str, &str)> = reply
            .tool_calls
            .iter()
            .map(|c| (c.id.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(
            calls,
            vec![("a", "{\"title\":\"x\"}"), ("b", "{\"title\":\"y\"}")]
        );
    }

    #[test]
    fn calls_without_index_are_told_apart_by_id() {
        let mut assembler = Assembler::default();
        assembler.push(&json!({"choices": [{"delta": {"tool_calls": [
            {"id": "a", "function": {"name": "list_tasks", "arguments": {}}},
            {"id": "b", "function": {"name": "list_tags", "arguments": "{}"}}
        ]}}]}));
        let reply = assembler.finish().expect("reply");
        assert_eq!(reply.tool_calls.len(), 2);
        assert_eq!(reply.tool_calls[0].arguments, "{}");
    }
}
