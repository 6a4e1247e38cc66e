//! `qunban demo` and `qunban account`: the dashboard's demo project and
//! sign-in accounts from the command line.

use std::io::BufRead;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use qunban_server::web::auth::hash_password;
use qunban_server::Engine;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[arg(long)]
    pub json: bool,
}

/// Loads the demo project into an empty database and prints its accounts.
pub async fn demo(args: DemoArgs, engine: &Engine) -> Result<()> {
    engine.store().init_workspace("qunban", "Asia/Shanghai", Default::default()).await?;
    let summary = qunban_server::web::demo::load_demo(engine, jiff::Timestamp::now()).await.map_err(|e| anyhow::anyhow!(e.message))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!("Loaded the demo project {} ({} chat messages, {} tasks).", summary.project, summary.messages, summary.tasks);
    println!("Sign in at the dashboard with one of these accounts (shown once):");
    for a in &summary.accounts {
        println!("  {:<10} {:<12} {} ({})", a.login, a.password, a.name, a.role);
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Give a member a dashboard account. The password is read from stdin with --password-stdin, otherwise generated and shown once.
    #[command(after_help = "Examples:\n  qunban account add 张三 --login zhangsan\n  echo 's3cret-pass' | qunban account add 王强 --login wangqiang --admin --password-stdin")]
    Add {
        /// The member's display name (registered if new).
        name: String,
        #[arg(long)]
        login: String,
        /// A workspace admin: connectors, every project.
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set a new password for an account.
    #[command(after_help = "Examples:\n  qunban account password zhangsan\n  echo 'n3w-pass-word' | qunban account password zhangsan --password-stdin")]
    Password {
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

fn password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        return Ok((line.trim_end_matches(['\r', '\n']).to_string(), false));
    }
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    Ok(((0..14).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect(), true))
}

pub async fn account(cmd: AccountCmd, engine: &Engine) -> Result<()> {
    let store = engine.store();
    match cmd {
        AccountCmd::Add { name, login, admin, password_stdin, json } => {
            let (pw, generated) = password(password_stdin)?;
            let hash = hash_password(pw.clone()).await.map_err(|e| anyhow::anyhow!(e.message))?;
            let member = match store.member_by_name(&name).await {
                Ok(m) => m,
                Err(qunban_store::StoreError::NotFound { .. }) => store.add_member(&name, None, &[], &[]).await?,
                Err(e) => return Err(e.into()),
            };
            store.create_account(member.id, &login, &hash, admin).await?;
            if json {
                println!("{}", serde_json::json!({ "member_id": member.id, "login": login, "admin": admin, "password": generated.then_some(&pw) }));
            } else {
                println!("Account {login} for {} created{}.", member.display_name, if admin { " (admin)" } else { "" });
                if generated {
                    println!("Password (shown once): {pw}");
                }
            }
        }
        AccountCmd::Password { login, password_stdin } => {
            let account = store.account_by_login(&login).await?.with_context(|| format!("no account '{login}'"))?;
            let (pw, generated) = password(password_stdin)?;
            let hash = hash_password(pw.clone()).await.map_err(|e| anyhow::anyhow!(e.message))?;
            if !store.set_password_hash(account.member_id, &hash).await? {
                bail!("no account '{login}'");
            }
            println!("Password of {login} changed.");
            if generated {
                println!("New password (shown once): {pw}");
            }
        }
    }
    Ok(())
}
