//! `kiln serve`'s settings: command-line flags, then `KILN_*` environment variables, then an
//! optional TOML file (`--config`), then the defaults documented on each field.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

/// Why the settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for these settings.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (names the key and line).
        message: String,
    },
    /// An environment variable does not parse.
    #[error("environment variable {name}={value:?}: {problem}")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What was expected.
        problem: String,
    },
    /// A setting is out of range.
    #[error("setting {name}: {problem}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// `kiln serve` flags. Every flag is optional; see [`ServeConfig`] for the defaults.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, an IP or a host name with a port (localhost:8080; port 0 picks
    /// a free one) [env KILN_LISTEN; default 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Directory for the database, proving keys and witnesses [env KILN_DATA_DIR; default ./kiln-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML file with any of these settings (keys as the flags, with underscores), plus `admin_key`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Devices to prove on: auto (the CPU and every accelerator present), cpu, one device
    /// (cuda:0), or a list scheduled together (cpu,opencl:0) [env KILN_DEVICE; default auto].
    #[arg(long)]
    pub device: Option<String>,
    /// Jobs proved at once [env KILN_WORKERS; default 1: one proof already uses every core].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Proving keys kept resident between jobs [env KILN_KEY_CACHE; default 4].
    #[arg(long)]
    pub key_cache: Option<usize>,
    /// Per-table budget (MiB) for the CPU's precomputed MSM tables; pays back after ~40
    /// proofs with one key [env KILN_PRECOMPUTE_MIB; default 0, off].
    #[arg(long)]
    pub precompute_mib: Option<usize>,
    /// Witnesses of queued jobs kept in memory for the prover (MiB), so a proof starts
    /// without reading its stored witness back; beyond it jobs read their files
    /// [env KILN_WITNESS_MEMORY_MIB; default 256; 0 reads every witness from disk].
    #[arg(long)]
    pub witness_memory_mib: Option<usize>,
    /// Largest witness request body in bytes [env KILN_MAX_BODY_BYTES; default 64 MiB].
    #[arg(long)]
    pub max_body_bytes: Option<u64>,
    /// Largest zkey upload in bytes [env KILN_MAX_ZKEY_BYTES; default 4 GiB].
    #[arg(long)]
    pub max_zkey_bytes: Option<u64>,
    /// Default per-tenant limit on queued jobs [env KILN_MAX_QUEUED_JOBS; default 10000].
    #[arg(long)]
    pub max_queued_jobs: Option<u64>,
    /// Default per-tenant limit on unfinished (queued + running) jobs [env KILN_MAX_CONCURRENT_JOBS; default 10000].
    #[arg(long)]
    pub max_concurrent_jobs: Option<u64>,
    /// Default per-tenant limit on stored zkey bytes [env KILN_MAX_STORED_BYTES; default 16 GiB].
    #[arg(long)]
    pub max_stored_bytes: Option<u64>,
    /// Longest `?wait=` long-poll in seconds [env KILN_MAX_WAIT_SECS; default 60].
    #[arg(long)]
    pub max_wait_secs: Option<u64>,
    /// Seconds of waiting that raise a queued job's priority by one [env KILN_AGING_SECS; default 30].
    #[arg(long)]
    pub aging_secs: Option<u64>,
    /// Times a job is started before a crash-looping job is failed [env KILN_MAX_ATTEMPTS; default 3].
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// Hours an idempotency key stays bound to its jobs; after that the key is free again
    /// [env KILN_IDEMPOTENCY_TTL_HOURS; default 24].
    #[arg(long)]
    pub idempotency_ttl_hours: Option<u64>,
    /// Webhook delivery attempts before giving up [env KILN_WEBHOOK_ATTEMPTS; default 8].
    #[arg(long)]
    pub webhook_attempts: Option<u32>,
    /// First webhook retry delay in ms, doubled per attempt up to 10 min [env KILN_WEBHOOK_BACKOFF_MS; default 1000].
    #[arg(long)]
    pub webhook_backoff_ms: Option<u64>,
    /// Refuse webhook URLs that are, or resolve to, loopback, private, link-local or other
    /// non-public addresses (for appliances whose tenants must not reach the operator's
    /// network) [env KILN_WEBHOOK_DENY_PRIVATE; default false: any address, as in development].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub webhook_deny_private: Option<bool>,
    /// Run the rollup: its sequencer, batch builder and routes under /v1/rollup
    /// [env KILN_ROLLUP; default false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub rollup: Option<bool>,
    /// The rollup's initial accounts, for a development start without L1:
    /// `{"chain_id", "accounts": [{"index", "token", "balance", "ax", "ay", "eth_address"}],
    /// "fee_accounts": [{"token", "index"}]}` [env KILN_ROLLUP_GENESIS].
    #[arg(long, value_name = "FILE")]
    pub rollup_genesis: Option<PathBuf>,
    /// The batch circuit's proving key from a phase-2 ceremony on `kiln rollup circuit
    /// export --batch-size N` (N the max batch size) [env KILN_ROLLUP_ZKEY; default: a
    /// development key kiln makes once and keeps in the data dir].
    #[arg(long, value_name = "FILE")]
    pub rollup_zkey: Option<PathBuf>,
    /// Transactions per batch: a batch closes when it has this many (the batch circuit's
    /// size) [env KILN_ROLLUP_MAX_BATCH_SIZE; default 16].
    #[arg(long, value_name = "N")]
    pub rollup_max_batch_size: Option<usize>,
    /// A batch closes this many ms after its first transaction [env
    /// KILN_ROLLUP_BATCH_TIMEOUT_MS; default 2000].
    #[arg(long, value_name = "MS")]
    pub rollup_batch_timeout_ms: Option<u64>,
    /// Confirmed transactions not yet proven beyond which new ones get 503 with
    /// Retry-After [env KILN_ROLLUP_MAX_BACKLOG; default 4096].
    #[arg(long, value_name = "N")]
    pub rollup_max_backlog: Option<usize>,
    /// Requests per second each client (IP address) may make to the public rollup routes,
    /// with bursts of twice that; 0 turns the limit off [env KILN_ROLLUP_RATE_LIMIT;
    /// default 200].
    #[arg(long, value_name = "PER_SECOND")]
    pub rollup_rate_limit: Option<u32>,
    /// Prove the rollup's batches on this appliance; false builds and keeps them unproven
    /// (a sequencer-only node, and the sequencer's benchmark), so the backlog bound then
    /// counts every confirmed transaction [env KILN_ROLLUP_PROVE; default true].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub rollup_prove: Option<bool>,
    /// The rollup's L1: an Ethereum JSON-RPC URL, `anvil` (start a development chain kept
    /// in the data dir; needs foundry's anvil, which `bash .ci/run --install` installs), or
    /// `none` (no L1: the development genesis only) [env KILN_L1_RPC; default anvil]. The
    /// operator's key is `KILN_L1_PRIVATE_KEY` (or `l1_private_key` in the config file;
    /// with anvil: anvil's first development key).
    #[arg(long, value_name = "URL|anvil|none")]
    pub l1_rpc: Option<String>,
    /// The rollup's deployment record (`kiln rollup deploy` writes one); without one the
    /// appliance deploys the contracts itself and keeps the record in the data dir [env
    /// KILN_L1_DEPLOYMENT; default DATA_DIR/rollup/l1-deployment.json].
    #[arg(long, value_name = "FILE")]
    pub l1_deployment: Option<PathBuf>,
    /// Blocks an L1 event must be under before it is followed, and a proven batch before it
    /// counts as finalized [env KILN_L1_CONFIRMATIONS; default 2, 0 with anvil].
    #[arg(long, value_name = "N")]
    pub l1_confirmations: Option<u64>,
    /// Time between polls of the L1 [env KILN_L1_POLL_MS; default 1000].
    #[arg(long, value_name = "MS")]
    pub l1_poll_ms: Option<u64>,
    /// For a deployment made here: seconds a queued deposit or forced exit has to be
    /// included in a proven batch before anyone may switch the rollup into exodus mode
    /// [env KILN_L1_INCLUSION_DEADLINE_S; default 86400]. Proofs are due 3600 s after a
    /// commit; the guardian (the operator's address) may pause for a quarter of this.
    #[arg(long, value_name = "SECONDS")]
    pub l1_inclusion_deadline_s: Option<u64>,
    /// A batch transaction not mined after this many seconds is replaced by one with the
    /// same nonce and fees raised by at least 12.5% [env KILN_L1_BUMP_AFTER_S; default 30].
    #[arg(long, value_name = "SECONDS")]
    pub l1_bump_after_s: Option<u64>,
}

/// The settings file (`--config`): the flags' names with underscores, plus the admin key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    admin_key: Option<String>,
    device: Option<String>,
    workers: Option<usize>,
    key_cache: Option<usize>,
    precompute_mib: Option<usize>,
    witness_memory_mib: Option<usize>,
    max_body_bytes: Option<u64>,
    max_zkey_bytes: Option<u64>,
    max_queued_jobs: Option<u64>,
    max_concurrent_jobs: Option<u64>,
    max_stored_bytes: Option<u64>,
    max_wait_secs: Option<u64>,
    aging_secs: Option<u64>,
    max_attempts: Option<u32>,
    idempotency_ttl_hours: Option<u64>,
    webhook_attempts: Option<u32>,
    webhook_backoff_ms: Option<u64>,
    webhook_deny_private: Option<bool>,
    rollup: Option<bool>,
    rollup_genesis: Option<PathBuf>,
    rollup_zkey: Option<PathBuf>,
    rollup_max_batch_size: Option<usize>,
    rollup_batch_timeout_ms: Option<u64>,
    rollup_max_backlog: Option<usize>,
    rollup_rate_limit: Option<u32>,
    rollup_prove: Option<bool>,
    l1_rpc: Option<String>,
    l1_deployment: Option<PathBuf>,
    l1_confirmations: Option<u64>,
    l1_poll_ms: Option<u64>,
    l1_inclusion_deadline_s: Option<u64>,
    l1_bump_after_s: Option<u64>,
    l1_private_key: Option<String>,
}

/// Resolved settings of one `kiln serve` process.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// The admin key from `KILN_ADMIN_KEY` or the config file, if set.
    pub admin_key: Option<String>,
    /// Device spec.
    pub device: String,
    /// Concurrent proofs.
    pub workers: usize,
    /// Resident proving keys.
    pub key_cache: usize,
    /// CPU precompute budget per table, bytes.
    pub precompute_bytes: usize,
    /// Budget of witnesses handed to the prover in memory, bytes.
    pub witness_memory_bytes: usize,
    /// Witness body limit.
    pub max_body_bytes: u64,
    /// Zkey upload limit.
    pub max_zkey_bytes: u64,
    /// Default queued-jobs quota.
    pub max_queued_jobs: u64,
    /// Default unfinished-jobs quota.
    pub max_concurrent_jobs: u64,
    /// Default stored-bytes quota.
    pub max_stored_bytes: u64,
    /// Longest long-poll.
    pub max_wait_secs: u64,
    /// Priority aging period.
    pub aging_secs: u64,
    /// Starts before a job is failed.
    pub max_attempts: u32,
    /// Hours an idempotency key is remembered.
    pub idempotency_ttl_hours: u64,
    /// Webhook attempts.
    pub webhook_attempts: u32,
    /// First webhook retry delay.
    pub webhook_backoff_ms: u64,
    /// Webhooks only to public addresses.
    pub webhook_deny_private: bool,
    /// The rollup's settings, when it runs.
    pub rollup: Option<RollupConfig>,
}

/// The rollup's settings (`--rollup`).
#[derive(Clone, Debug)]
pub struct RollupConfig {
    /// The genesis file (development, no L1).
    pub genesis: Option<PathBuf>,
    /// The ceremony's proving key, if given.
    pub zkey: Option<PathBuf>,
    /// Transactions per batch.
    pub max_batch_size: usize,
    /// Batch timeout, ms.
    pub batch_timeout_ms: u64,
    /// The backlog bound.
    pub max_backlog: usize,
    /// Requests per second per client (0: no limit).
    pub rate_limit: u32,
    /// Whether batches are proven here.
    pub prove: bool,
    /// The L1, if one is attached.
    pub l1: Option<L1Config>,
}

/// The rollup's L1 (`--l1-rpc`).
#[derive(Clone, Debug)]
pub struct L1Config {
    /// `None`: start anvil; otherwise the JSON-RPC URL.
    pub url: Option<String>,
    /// The operator's private key.
    pub private_key: String,
    /// The deployment record, if given.
    pub deployment: Option<PathBuf>,
    /// Confirmation depth.
    pub confirmations: u64,
    /// Poll period, ms.
    pub poll_ms: u64,
    /// Inclusion deadline for a deployment made here, s.
    pub inclusion_deadline_s: u64,
    /// Seconds before a stuck batch transaction is replaced.
    pub bump_after_s: u64,
}

fn env_value<T: FromStr>(name: &str) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().map(Some).map_err(|e: T::Err| ConfigError::Env {
            name: name.to_string(),
            value: v.clone(),
            problem: e.to_string(),
        }),
        _ => Ok(None),
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The address `--listen` names: an IP and port, or a host name and port resolved now
/// (IPv4 preferred, so `localhost:8080` serves 127.0.0.1 as clients expect).
fn resolve_listen(text: &str) -> Result<SocketAddr, ConfigError> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let invalid = |problem: String| ConfigError::Invalid {
        name: "listen",
        problem,
    };
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| invalid(format!("{text:?}: expected HOST:PORT ({e})")))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| invalid(format!("{text:?}: the host name resolves to no address")))
}

impl ServeConfig {
    /// Resolves flags, environment, config file and defaults.
    pub fn resolve(args: ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        macro_rules! pick {
            ($field:ident, $env:literal, $default:expr) => {
                match args.$field.clone() {
                    Some(v) => v,
                    None => match env_value($env)? {
                        Some(v) => v,
                        None => file.$field.clone().unwrap_or($default),
                    },
                }
            };
        }
        const MIB: u64 = 1 << 20;
        let cfg = ServeConfig {
            listen: resolve_listen(&pick!(listen, "KILN_LISTEN", "127.0.0.1:8080".to_string()))?,
            data_dir: pick!(data_dir, "KILN_DATA_DIR", PathBuf::from("kiln-data")),
            admin_key: env_value::<String>("KILN_ADMIN_KEY")?.or(file.admin_key.clone()),
            device: pick!(device, "KILN_DEVICE", "auto".to_string()),
            workers: pick!(workers, "KILN_WORKERS", 1),
            key_cache: pick!(key_cache, "KILN_KEY_CACHE", 4),
            precompute_bytes: pick!(precompute_mib, "KILN_PRECOMPUTE_MIB", 0)
                .saturating_mul(1 << 20),
            witness_memory_bytes: pick!(witness_memory_mib, "KILN_WITNESS_MEMORY_MIB", 256)
                .saturating_mul(1 << 20),
            max_body_bytes: pick!(max_body_bytes, "KILN_MAX_BODY_BYTES", 64 * MIB),
            max_zkey_bytes: pick!(max_zkey_bytes, "KILN_MAX_ZKEY_BYTES", 4096 * MIB),
            max_queued_jobs: pick!(max_queued_jobs, "KILN_MAX_QUEUED_JOBS", 10_000),
            max_concurrent_jobs: pick!(max_concurrent_jobs, "KILN_MAX_CONCURRENT_JOBS", 10_000),
            max_stored_bytes: pick!(max_stored_bytes, "KILN_MAX_STORED_BYTES", 16384 * MIB),
            max_wait_secs: pick!(max_wait_secs, "KILN_MAX_WAIT_SECS", 60),
            aging_secs: pick!(aging_secs, "KILN_AGING_SECS", 30),
            max_attempts: pick!(max_attempts, "KILN_MAX_ATTEMPTS", 3),
            idempotency_ttl_hours: pick!(idempotency_ttl_hours, "KILN_IDEMPOTENCY_TTL_HOURS", 24),
            webhook_attempts: pick!(webhook_attempts, "KILN_WEBHOOK_ATTEMPTS", 8),
            webhook_backoff_ms: pick!(webhook_backoff_ms, "KILN_WEBHOOK_BACKOFF_MS", 1000),
            webhook_deny_private: pick!(webhook_deny_private, "KILN_WEBHOOK_DENY_PRIVATE", false),
            rollup: if pick!(rollup, "KILN_ROLLUP", false) {
                Some(RollupConfig {
                    genesis: match args.rollup_genesis.clone() {
                        Some(p) => Some(p),
                        None => env_value("KILN_ROLLUP_GENESIS")?.or(file.rollup_genesis.clone()),
                    },
                    zkey: match args.rollup_zkey.clone() {
                        Some(p) => Some(p),
                        None => env_value("KILN_ROLLUP_ZKEY")?.or(file.rollup_zkey.clone()),
                    },
                    max_batch_size: pick!(rollup_max_batch_size, "KILN_ROLLUP_MAX_BATCH_SIZE", 16),
                    batch_timeout_ms: pick!(
                        rollup_batch_timeout_ms,
                        "KILN_ROLLUP_BATCH_TIMEOUT_MS",
                        2000
                    ),
                    max_backlog: pick!(rollup_max_backlog, "KILN_ROLLUP_MAX_BACKLOG", 4096),
                    rate_limit: pick!(rollup_rate_limit, "KILN_ROLLUP_RATE_LIMIT", 200),
                    prove: pick!(rollup_prove, "KILN_ROLLUP_PROVE", true),
                    l1: match pick!(l1_rpc, "KILN_L1_RPC", "anvil".to_string()).as_str() {
                        "none" | "" => None,
                        rpc => {
                            let anvil = rpc == "anvil";
                            let key = env_value::<String>("KILN_L1_PRIVATE_KEY")?
                                .or(file.l1_private_key.clone());
                            Some(L1Config {
                                url: (!anvil).then(|| rpc.to_string()),
                                private_key: match (key, anvil) {
                                    (Some(k), _) => k,
                                    (None, true) => kiln_l1::anvil::DEV_KEY.to_string(),
                                    (None, false) => {
                                        return Err(ConfigError::Invalid {
                                            name: "l1_private_key",
                                            problem: format!("--l1-rpc {rpc} needs the operator's key in KILN_L1_PRIVATE_KEY (or l1_private_key in the config file)"),
                                        })
                                    }
                                },
                                deployment: match args.l1_deployment.clone() {
                                    Some(p) => Some(p),
                                    None => env_value("KILN_L1_DEPLOYMENT")?
                                        .or(file.l1_deployment.clone()),
                                },
                                confirmations: pick!(
                                    l1_confirmations,
                                    "KILN_L1_CONFIRMATIONS",
                                    if anvil { 0 } else { 2 }
                                ),
                                poll_ms: pick!(l1_poll_ms, "KILN_L1_POLL_MS", 1000),
                                inclusion_deadline_s: pick!(
                                    l1_inclusion_deadline_s,
                                    "KILN_L1_INCLUSION_DEADLINE_S",
                                    86_400
                                ),
                                bump_after_s: pick!(l1_bump_after_s, "KILN_L1_BUMP_AFTER_S", 30),
                            })
                        }
                    },
                })
            } else {
                None
            },
        };
        let positive = |name: &'static str, v: u64| {
            if v == 0 {
                Err(ConfigError::Invalid {
                    name,
                    problem: "must be at least 1".into(),
                })
            } else {
                Ok(())
            }
        };
        positive("workers", cfg.workers as u64)?;
        positive("key_cache", cfg.key_cache as u64)?;
        positive("max_attempts", cfg.max_attempts as u64)?;
        positive("webhook_attempts", cfg.webhook_attempts as u64)?;
        positive("aging_secs", cfg.aging_secs)?;
        positive("idempotency_ttl_hours", cfg.idempotency_ttl_hours)?;
        if let Some(r) = &cfg.rollup {
            positive("rollup_max_batch_size", r.max_batch_size as u64)?;
            positive("rollup_batch_timeout_ms", r.batch_timeout_ms)?;
            positive("rollup_max_backlog", r.max_backlog as u64)?;
            if r.max_batch_size > 4096 {
                return Err(ConfigError::Invalid {
                    name: "rollup_max_batch_size",
                    problem: "at most 4096 transactions per batch".into(),
                });
            }
            if let Some(l1) = &r.l1 {
                positive("l1_poll_ms", l1.poll_ms)?;
                positive("l1_bump_after_s", l1.bump_after_s)?;
                if l1.inclusion_deadline_s < 8 {
                    return Err(ConfigError::Invalid {
                        name: "l1_inclusion_deadline_s",
                        problem: "at least 8 seconds".into(),
                    });
                }
            }
            if r.genesis.is_none() {
                return Err(ConfigError::Invalid {
                    name: "rollup_genesis",
                    problem: "--rollup needs --rollup-genesis FILE (the initial accounts) until an L1 is attached".into(),
                });
            }
        }
        if matches!(&cfg.admin_key, Some(k) if k.len() < 16) {
            return Err(ConfigError::Invalid {
                name: "admin_key",
                problem: "must be at least 16 characters".into(),
            });
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiln.toml");
        std::fs::write(&path, "workers = 3\nkey_cache = 7\n").unwrap();
        let cfg = ServeConfig::resolve(ServeArgs {
            config: Some(path.clone()),
            workers: Some(2),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.workers, 2);
        assert_eq!(cfg.key_cache, 7);
        assert_eq!(cfg.max_wait_secs, 60);

        std::fs::write(&path, "wokers = 3\n").unwrap();
        let err = ServeConfig::resolve(ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("wokers"), "{err}");
    }
}
