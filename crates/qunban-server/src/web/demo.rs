//! A realistic demo project for an empty database: three groups (master,
//! sub-task, support), six members with roles, and three weeks of chat.
//!
//! Everything after the directory set-up is chat: the messages go through
//! the same pipeline as a platform's, with their original times, so the
//! demo's tasks, history, stand-ups and decisions are exactly what qunban
//! would have made of that conversation.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::{civil::Date, Timestamp, Zoned};
use qunban_store::{InboundMessage, StoreError};
use rand::Rng;
use serde::Serialize;
use serde_json::json;

use super::auth::{hash_password, signed_in, Caller};
use crate::http::ApiError;
use crate::pipeline::Engine;

pub const DEMO_PROJECT: &str = "门店小程序2.0";

/// A demo member's sign-in.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub login: String,
    pub password: String,
    pub name: String,
    pub role: String,
}

/// What loading the demo made.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    pub project: String,
    pub project_id: i64,
    pub messages: usize,
    pub tasks: usize,
    pub accounts: Vec<DemoAccount>,
}

/// (login = platform user id, name, role)
const PEOPLE: [(&str, &str, &str); 6] = [
    ("wangqiang", "王强", "pm"),
    ("lina", "李娜", "lead"),
    ("zhangwei", "张伟", "executor"),
    ("chenjing", "陈静", "executor"),
    ("liuyang", "刘洋", "executor"),
    ("zhaomin", "赵敏", "viewer"),
];

/// (platform, chat id, name)
const MASTER: (&str, &str, &str) = ("wecom", "demo-master", "门店小程序2.0·总控群");
const PAYMENT: (&str, &str, &str) = ("wecom", "demo-payment", "支付模块·子任务群");
const DESIGN: (&str, &str, &str) = ("dingtalk", "demo-design", "设计支持群");

/// One line of the demo conversation: days before today, local time, group,
/// sender login, text. `{D+n}` / `{D-n}` become dates relative to today.
type Line = (i64, (i8, i8), (&'static str, &'static str, &'static str), &'static str, &'static str);

const SCRIPT: &[Line] = &[
    (20, (9, 0), MASTER, "wangqiang", "/绑定 门店小程序2.0 总控群"),
    (20, (9, 2), MASTER, "wangqiang", "/设置 @李娜 组长"),
    (20, (9, 3), MASTER, "wangqiang", "/设置 @张伟 执行人"),
    (20, (9, 3), MASTER, "wangqiang", "/设置 @陈静 执行人"),
    (20, (9, 4), MASTER, "wangqiang", "/设置 @刘洋 执行人"),
    (20, (9, 4), MASTER, "wangqiang", "/设置 @赵敏 观察员"),
    (20, (9, 6), MASTER, "wangqiang", "/里程碑 M1 设计评审通过 {D-10}"),
    (20, (9, 7), MASTER, "wangqiang", "/里程碑 M2 灰度上线 {D+10}"),
    (20, (9, 10), MASTER, "wangqiang", "【标题】需求文档定稿 【责任人】李娜 【截止时间】{D-16} 18:00 【状态】进行中 【里程碑】M1 设计评审通过 【备注】含会员与支付两部分"),
    (20, (9, 12), MASTER, "wangqiang", "【标题】首页UI设计稿 【责任人】陈静 【截止时间】{D-12} 18:00 【状态】进行中 【里程碑】M1 设计评审通过"),
    (20, (9, 15), MASTER, "lina", "【标题】登录注册接口 【责任人】张伟 【截止时间】{D-9} 18:00 【状态】未开始"),
    (19, (10, 0), MASTER, "wangqiang", "【标题】支付接口对接 【责任人】刘洋 【截止时间】{D+3} 18:00 【状态】进行中 【优先级】高 【里程碑】M2 灰度上线"),
    (19, (10, 5), MASTER, "lina", "【标题】订单列表页 【责任人】张伟 【截止时间】{D-2} 18:00 【状态】未开始 【里程碑】M2 灰度上线"),
    (19, (10, 8), MASTER, "lina", "【标题】会员积分规则 【责任人】李娜 【截止时间】{D+5} 18:00 【状态】未开始 【里程碑】M2 灰度上线"),
    (19, (10, 10), MASTER, "wangqiang", "【标题】隐私政策与合规审查 【责任人】陈静 【截止时间】{D-1} 18:00 【状态】进行中"),
    (19, (10, 30), MASTER, "wangqiang", "/决议 首发只支持微信支付，支付宝放到二期"),
    (18, (14, 0), PAYMENT, "wangqiang", "/绑定 门店小程序2.0 子任务群 TASK-004"),
    (18, (14, 5), PAYMENT, "liuyang", "【标题】微信支付回调验签 【责任人】刘洋 【截止时间】{D-1} 18:00 【状态】进行中"),
    (18, (14, 8), PAYMENT, "lina", "【标题】退款流程 【责任人】张伟 【截止时间】{D+4} 18:00 【状态】未开始"),
    (17, (17, 30), MASTER, "lina", "#TASK-001 已完成"),
    (16, (11, 0), DESIGN, "wangqiang", "/绑定 门店小程序2.0 支持群"),
    (16, (11, 5), DESIGN, "chenjing", "【标题】图标切图 【责任人】陈静 【截止时间】{D-4} 18:00 【状态】进行中"),
    (15, (9, 30), MASTER, "chenjing", "#TASK-002 进度60%"),
    (14, (16, 0), MASTER, "zhangwei", "#TASK-003 进度40%"),
    (14, (18, 20), MASTER, "liuyang", "/风险 微信支付商户审核可能延期 概率中 影响高 @刘洋 应对：提前提交材料并准备沙箱联调"),
    (11, (19, 0), MASTER, "chenjing", "#TASK-002 已完成"),
    (10, (15, 0), MASTER, "zhangwei", "#TASK-003 已完成"),
    (10, (15, 30), MASTER, "wangqiang", "/点赞 @张伟 周末加班修好了登录验证码的bug"),
    (9, (10, 0), MASTER, "zhangwei", "#TASK-005 进行中"),
    (8, (9, 40), MASTER, "chenjing", "#TASK-007 延期到{D+2}"),
    (8, (9, 41), MASTER, "chenjing", "#TASK-007 阻塞 等法务回复"),
    (6, (16, 10), PAYMENT, "liuyang", "#TASK-008 进度70%"),
    (5, (10, 0), MASTER, "liuyang", "#TASK-004 进度60%"),
    (5, (17, 0), DESIGN, "chenjing", "#TASK-010 已完成"),
    (4, (11, 0), MASTER, "wangqiang", "【标题】性能压测方案 【责任人】刘洋 【截止时间】{D+7} 18:00 【状态】未开始"),
    (4, (11, 5), MASTER, "wangqiang", "【标题】灰度发布清单 【责任人】李娜 【截止时间】{D+9} 18:00 【状态】未开始 【里程碑】M2 灰度上线"),
    (3, (14, 0), MASTER, "zhangwei", "#TASK-005 进度80%"),
    (2, (18, 30), PAYMENT, "liuyang", "#TASK-008 已完成"),
    (1, (9, 15), MASTER, "zhangwei", "昨日：订单列表分页和筛选\n今日：订单详情页联调\n阻碍：无"),
    (1, (9, 20), MASTER, "liuyang", "昨日：支付回调验签上线测试环境\n今日：退款接口评审\n阻碍：商户号审核还没下来"),
    (1, (9, 25), MASTER, "chenjing", "昨日：隐私政策初稿\n今日：等法务意见\n阻碍：法务排期紧张"),
    (1, (10, 0), PAYMENT, "zhangwei", "#TASK-009 进行中"),
    (0, (9, 10), MASTER, "lina", "昨日：积分规则评审\n今日：整理灰度发布清单\n阻碍：无"),
];

fn fill_dates(text: &str, today: Date) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{D") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map(|e| start + e).unwrap_or(rest.len() - 1);
        let n: i64 = rest[start + 2..end].parse().unwrap_or(0);
        out.push_str(&qunban_report::add_days(today, n).to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn password() -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

/// Loads the demo into an empty database. Accounts are created for the six
/// members; the PM is a workspace admin when no account existed before.
pub async fn load_demo(engine: &Engine, now: Timestamp) -> Result<DemoSummary, ApiError> {
    let store = engine.store();
    if !store.is_empty().await? {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", "the demo is only offered on an empty database"));
    }
    let first_accounts = store.account_count().await? == 0;
    let tz = engine.workspace().await?.tz();
    let today = now.to_zoned(tz.clone()).date();
    let mut accounts = Vec::new();
    for (login, name, role) in PEOPLE {
        let identities = vec![("wecom".to_string(), login.to_string()), ("dingtalk".to_string(), login.to_string())];
        let member = store.add_member(name, None, &[], &identities).await?;
        let pw = password();
        let hash = hash_password(pw.clone()).await?;
        store.create_account(member.id, login, &hash, first_accounts && role == "pm").await?;
        accounts.push(DemoAccount { login: login.into(), password: pw, name: name.into(), role: role.into() });
    }
    let mut n = 0;
    for (i, (days_ago, (h, m), (platform, chat_id, chat_name), sender, text)) in SCRIPT.iter().enumerate() {
        let day = qunban_report::add_days(today, -days_ago);
        let at: Zoned = day.at(*h, *m, 0, 0).to_zoned(tz.clone()).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let at = at.timestamp().min(now);
        let name = PEOPLE.iter().find(|p| p.0 == *sender).map_or(*sender, |p| p.1);
        let msg = InboundMessage {
            platform: platform.to_string(),
            platform_msg_id: format!("demo-{i}"),
            chat_id: chat_id.to_string(),
            chat_name: Some(chat_name.to_string()),
            sender_id: sender.to_string(),
            sender_name: name.to_string(),
            text: fill_dates(text, today),
            sent_at: at.as_second(),
            raw: json!({ "demo": true }).to_string(),
        };
        // The past is not announced again: nobody is notified of demo history.
        engine.handle_with(msg, false).await?;
        n += 1;
    }
    let project = store.project_by_name(DEMO_PROJECT).await?;
    let tasks = store.tasks(&qunban_store::TaskFilter { project_id: Some(project.id), ..Default::default() }).await?.len();
    Ok(DemoSummary { project: project.name, project_id: project.id, messages: n, tasks, accounts })
}

/// `POST /api/v1/demo`: open while the workspace has no account (the first
/// visitor of a fresh install), otherwise for admins.
pub async fn load(State(engine): State<Engine>, headers: HeaderMap, caller: Option<Caller>) -> Result<Response, ApiError> {
    let has_accounts = engine.store().account_count().await? > 0;
    if has_accounts && !caller.as_ref().is_some_and(|c| c.is_admin) {
        return Err(match caller {
            None => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in as an admin to load the demo"),
            Some(_) => Caller::forbidden("only workspace admins can load the demo"),
        });
    }
    let summary = load_demo(&engine, Timestamp::now()).await?;
    let body = serde_json::to_value(&summary).map_err(ApiError::internal)?;
    if caller.is_none() {
        let pm = engine.store().account_by_login(PEOPLE[0].0).await?.ok_or(StoreError::Corrupt("demo PM account missing".into()))?;
        return signed_in(&engine, &headers, pm.member_id, StatusCode::CREATED, body).await;
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
