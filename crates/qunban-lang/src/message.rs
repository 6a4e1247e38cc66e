//! Chat messages to intents. (Skeleton: the message work fills this in.)

use crate::intent::{Intent, MessageContext};

/// What a message asks for; `[Intent::None]` when it asks for nothing.
pub fn parse_message(text: &str, ctx: &MessageContext<'_>) -> Vec<Intent> {
    let _ = (text, ctx);
    vec![Intent::None]
}
