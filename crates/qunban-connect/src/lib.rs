//! Wire formats of the chat platforms qunban talks to, with no I/O.
//!
//! Everything here is a pure function of its inputs: the HTTP layer hands in
//! raw bodies, header values and the current time, and gets back parsed
//! messages, errors it can map to a status code ([`ConnectError::http_status`])
//! or request specs it can send ([`outbound::HttpRequest`]). Keeping clocks,
//! randomness and sockets out lets every protocol be checked against the
//! published golden vectors byte for byte.
//!
//! | module | platform |
//! | --- | --- |
//! | [`wecom`] | WeCom self-built app callback and 智能机器人 (WXBizMsgCrypt) |
//! | [`dingtalk`] | DingTalk robot signing, outgoing callback, robot bodies |
//! | [`feishu`] | Feishu/Lark event decryption, signature, custom bot |
//! | [`webhook`] | qunban's own generic signed webhook (both directions) |
//! | [`outbound`] | platform-neutral message → per-platform requests, retry classification |
//! | [`wechat_export`] | personal-WeChat exports (WeChatMsg TXT/CSV) |

pub mod dingtalk;
mod error;
pub mod feishu;
pub mod outbound;
mod util;
pub mod webhook;
pub mod wechat_export;
pub mod wecom;
mod xml;

pub use error::ConnectError;

/// A secret string whose `Debug` never shows the value, so configs can be
/// logged with `{:?}` without leaking credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// Deliberately named so every read of the secret is greppable.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}
