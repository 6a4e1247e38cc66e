//! `qunban connector`: platform callbacks and generic webhooks.

use anyhow::Result;
use clap::Subcommand;
use qunban_store::{ConnectorConfig, ConnectorKind, Store};

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum ConnectorCmd {
    /// Add a connector; the last line printed is the callback path to paste
    /// into the platform's console (after your server's https://host).
    #[command(subcommand)]
    Add(AddCmd),
    /// List connectors (secrets redacted).
    #[command(after_help = "Examples:\n  qunban connector list\n  qunban connector list --json")]
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AddCmd {
    /// WeCom self-built app (自建应用) callback: 接收消息 URL, Token, EncodingAESKey.
    #[command(after_help = "Examples:\n  qunban connector add wecom --name hr-app --corp-id ww5823bf96d3bd56c7 --token QDG6eK --aes-key jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C --agent-id 1000002")]
    Wecom {
        #[arg(long)]
        name: String,
        /// 企业ID: the receive id every callback is checked against.
        #[arg(long)]
        corp_id: String,
        #[arg(long)]
        token: String,
        /// EncodingAESKey, 43 characters.
        #[arg(long)]
        aes_key: String,
        /// AgentId; messages to the app are logged in the group `wecom:app:AGENT_ID`.
        #[arg(long)]
        agent_id: Option<String>,
    },
    /// WeCom 智能机器人 (AI bot) in API mode: group @-messages.
    #[command(name = "wecom-bot", after_help = "Examples:\n  qunban connector add wecom-bot --name pm-bot --token T0ken --aes-key jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")]
    WecomBot {
        #[arg(long)]
        name: String,
        #[arg(long)]
        token: String,
        #[arg(long)]
        aes_key: String,
    },
    /// DingTalk enterprise-internal robot, HTTP callback mode.
    #[command(after_help = "Examples:\n  qunban connector add dingtalk --name ding --app-secret 'AppSecret-of-the-robot-app'")]
    Dingtalk {
        #[arg(long)]
        name: String,
        /// The robot application's AppSecret (signs every callback).
        #[arg(long)]
        app_secret: String,
        /// Where replies may be POSTed (a callback's sessionWebhook), as
        /// `https://host[:port]`; repeatable. Default: the platform's hosts
        /// (https://oapi.dingtalk.com, https://api.dingtalk.com).
        #[arg(long = "session-webhook-origin")]
        session_webhook_origins: Vec<String>,
    },
    /// Feishu/Lark event subscription (im.message.receive_v1).
    #[command(after_help = "Examples:\n  qunban connector add feishu --name lark --encrypt-key EK --verification-token VT --bot-open-id ou_b07c1e4e0cd3fa1f6b5d62a3b7b1e5f2")]
    Feishu {
        #[arg(long)]
        name: String,
        #[arg(long)]
        encrypt_key: String,
        #[arg(long)]
        verification_token: String,
        /// The bot's open_id, so "@bot" is dropped from messages.
        #[arg(long)]
        bot_open_id: Option<String>,
    },
    /// Generic signed JSON webhook (docs/WEBHOOKS.md), both directions.
    #[command(after_help = "Examples:\n  qunban connector add webhook --name my-bridge --secret change-me\n  qunban connector add webhook --name erp --secret s3cret --url https://erp.example.com/qunban-events")]
    Webhook {
        #[arg(long)]
        name: String,
        /// HMAC-SHA256 secret shared with the other side.
        #[arg(long)]
        secret: String,
        /// Where to POST signed events (task.created, task.updated, task.overdue, report.daily).
        #[arg(long)]
        url: Option<String>,
    },
}

pub async fn run(cmd: ConnectorCmd, store: &Store) -> Result<()> {
    match cmd {
        ConnectorCmd::Add(add) => {
            let (name, kind, config) = match add {
                AddCmd::Wecom { name, corp_id, token, aes_key, agent_id } => {
                    // Fail now, not on the first callback, if the key is unusable.
                    qunban_connect::wecom::WecomCrypto::new(&token, &aes_key, &corp_id)?;
                    (name, ConnectorKind::Wecom, ConnectorConfig { corp_id: Some(corp_id), token: Some(token), aes_key: Some(aes_key), agent_id, ..Default::default() })
                }
                AddCmd::WecomBot { name, token, aes_key } => {
                    qunban_connect::wecom::WecomCrypto::new(&token, &aes_key, "")?;
                    (name, ConnectorKind::WecomBot, ConnectorConfig { token: Some(token), aes_key: Some(aes_key), ..Default::default() })
                }
                AddCmd::Dingtalk { name, app_secret, session_webhook_origins } => {
                    for o in &session_webhook_origins {
                        anyhow::ensure!(
                            o.starts_with("https://") || o.starts_with("http://"),
                            "bad --session-webhook-origin '{o}': expected https://host[:port]"
                        );
                    }
                    (name, ConnectorKind::Dingtalk, ConnectorConfig { app_secret: Some(app_secret), session_webhook_origins, ..Default::default() })
                }
                AddCmd::Feishu { name, encrypt_key, verification_token, bot_open_id } => (
                    name,
                    ConnectorKind::Feishu,
                    ConnectorConfig { encrypt_key: Some(encrypt_key), verification_token: Some(verification_token), bot_open_id, ..Default::default() },
                ),
                AddCmd::Webhook { name, secret, url } => {
                    if let Some(u) = &url {
                        anyhow::ensure!(u.starts_with("http://") || u.starts_with("https://"), "bad --url '{u}': expected http(s)://…");
                    }
                    (name, ConnectorKind::Webhook, ConnectorConfig { secret: Some(secret), url, ..Default::default() })
                }
            };
            let c = store.add_connector(&name, kind, &config).await?;
            println!("Connector '{}' ({}) added. Callback path:", c.name, c.kind);
            println!("{}", c.kind.callback_path(&c.name));
            Ok(())
        }
        ConnectorCmd::List { json } => {
            let connectors = store.connectors().await?;
            if json {
                return print_json(&connectors.iter().map(|c| c.redacted_json()).collect::<Vec<_>>());
            }
            for c in connectors {
                println!("{}\t{}\t{}\t{}", c.id, c.name, c.kind, c.kind.callback_path(&c.name));
            }
            Ok(())
        }
    }
}
