//! Password hashing with Argon2id. Hashing is deliberately slow and takes 19 MiB of memory a
//! time, so it runs on a fixed set of threads of its own (as many as there are cores), fed by
//! a bounded queue: never on the async workers, and never on Tokio's blocking pool, whose
//! hundreds of threads each kept an Argon2 block in their own malloc arena (256 concurrent
//! logins: 4.1 GB resident, never given back). When the queue is full the caller is told
//! [`Error::Busy`] at once (503 with `Retry-After` over HTTP) rather than queued without end.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{Semaphore, oneshot};

use crate::error::{Error, Result};

/// Hashes that may wait for a thread, per thread: at ~50 ms a hash, a full queue is about three
/// seconds of work, well inside a request's time limit.
const QUEUE_PER_THREAD: usize = 64;

pub async fn hash(password: String) -> Result<String> {
    hasher().hash(password).await
}

/// Whether `password` matches `stored`. With no stored hash (an unknown account) a dummy hash
/// is still checked, so a wrong email takes as long as a wrong password.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    hasher().verify(password, stored).await
}

/// The process's hashing threads, started on first use.
fn hasher() -> &'static Hasher {
    static HASHER: OnceLock<Hasher> = OnceLock::new();
    HASHER.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Hasher::new(threads, threads * QUEUE_PER_THREAD)
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads and a bounded queue in front of them.
pub struct Hasher {
    jobs: Mutex<mpsc::Sender<Job>>,
    /// One permit per thread and per place in the queue; a job holds one until it is done.
    slots: Arc<Semaphore>,
    threads: usize,
}

impl Hasher {
    /// `threads` threads, and up to `queue` jobs waiting for one.
    pub fn new(threads: usize, queue: usize) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut started = 0;
        for n in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&receiver));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start a password thread"),
            }
        }
        Self {
            jobs: Mutex::new(sender),
            slots: Arc::new(Semaphore::new(started + queue)),
            threads: started,
        }
    }

    /// Runs `job` on one of the threads; [`Error::Busy`] when every thread and every place in
    /// the queue is taken.
    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        if self.threads == 0 {
            return Err(Error::internal("no password thread could be started"));
        }
        let slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy("too many sign-ins at once; try again in a moment"))?;
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(job());
            drop(slot);
        });
        self.jobs
            .lock()
            .map_err(|_| Error::internal("the password queue is poisoned"))?
            .send(job)
            .map_err(|_| Error::internal("the password threads have stopped"))?;
        answer
            .await
            .map_err(|_| Error::internal("a password check failed unexpectedly"))
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || hash_here(password.as_bytes())).await?
    }

    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        self.run(move || {
            let known = stored.is_some();
            let stored = match stored {
                Some(stored) => stored,
                None => dummy_hash()?.to_owned(),
            };
            Ok(verify_here(password.as_bytes(), &stored)? && known)
        })
        .await?
    }
}

/// A thread's life: take the next job, run it, forever (until the sender is gone). A job that
/// panics drops its reply (the caller gets an internal error) and the thread carries on.
fn work(jobs: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let next = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
    }
}

thread_local! {
    /// A password thread's Argon2 working memory (19 MiB with the default parameters), made on
    /// its first hash and reused by every later one. Made afresh for each hash, the freed
    /// blocks stayed in each thread's malloc arena: ~200 MiB after a burst of logins, never
    /// given back. Reused, a burst costs one block per thread, once.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn failed(doing: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("{doing}: {e}"))
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password`, with a random salt.
fn hash_here(password: &[u8]) -> Result<String> {
    let (algorithm, version, params) = (Algorithm::Argon2id, Version::V0x13, Params::default());
    let salt_bytes: [u8; 16] = rand::random();
    let salt = Salt::new(&salt_bytes).map_err(|e| failed("making a salt", e))?;
    let hash = compute(algorithm, version, &params, password, &salt)?;
    let phc = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed("writing parameters", e))?,
        salt: Some(salt),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, computed with the parameters it names.
fn verify_here(password: &[u8], stored: &str) -> Result<bool> {
    let malformed = |e: &dyn std::fmt::Display| failed("stored password hash is malformed", e);
    let parsed = PasswordHash::new(stored).map_err(|e| malformed(&e))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(malformed(&"no salt or no hash"));
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| malformed(&e))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| malformed(&e))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|e| malformed(&e))?;
    // `Output`'s equality takes constant time.
    Ok(compute(algorithm, version, &params, password, salt)? == *expected)
}

/// Argon2 of `password` and `salt` in this thread's [`MEMORY`].
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
) -> Result<Output> {
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let out = buffer
        .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
        .ok_or_else(|| failed("hashing password", "output too long"))?;
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params.clone());
    MEMORY
        .with_borrow_mut(|memory| {
            if memory.len() < blocks {
                *memory = vec![Block::default(); blocks];
            }
            argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        })
        .map_err(|e| failed("hashing password", e))?;
    Output::new(out).map_err(|e| failed("hashing password", e))
}

/// The hash of a random string nobody knows, made once with the same parameters as real ones.
fn dummy_hash() -> Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let secret: [u8; 16] = rand::random();
    let hash = hash_here(&secret)?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse".into(), Some(stored.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong horse".into(), Some(stored))
                .await
                .expect("verify")
        );
    }

    /// Stored hashes made by the argon2 crate's own hasher (every account so far) verify
    /// here, and ours verify there: the same PHC strings either way.
    #[test]
    fn hashes_are_the_argon2_crates_phc_strings() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"correct horse")
            .expect("hash")
            .to_string();
        assert!(verify_here(b"correct horse", &theirs).expect("verify"));
        assert!(!verify_here(b"wrong horse", &theirs).expect("verify"));
        let ours = hash_here(b"correct horse").expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).expect("parse");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(verify_here(b"x", "not a hash").is_err());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify("anything".into(), None).await.expect("verify"));
    }

    /// One thread and one place in the queue: of five hashes asked for at once, two are taken
    /// (one running, one waiting) and succeed; the other three are refused at once as busy.
    #[tokio::test]
    async fn hashes_beyond_the_threads_and_the_queue_are_refused_as_busy() {
        let hasher = Hasher::new(1, 1);
        // `join!` polls each in turn on this task: all five ask for a slot before any
        // hash can finish.
        let (a, b, c, d, e) = tokio::join!(
            hasher.hash("password a".into()),
            hasher.hash("password b".into()),
            hasher.hash("password c".into()),
            hasher.hash("password d".into()),
            hasher.hash("password e".into()),
        );
        let outcomes = [a, b, c, d, e];
        let busy = outcomes
            .iter()
            .filter(|o| matches!(o, Err(Error::Busy(_))))
            .count();
        let hashed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!((busy, hashed.len()), (3, 2), "{outcomes:?}");

        // Once they are done, the threads take work again.
        let stored = hasher.hash("again".into()).await.expect("hash");
        assert!(
            hasher
                .verify("again".into(), Some(stored))
                .await
                .expect("verify")
        );
    }
}
