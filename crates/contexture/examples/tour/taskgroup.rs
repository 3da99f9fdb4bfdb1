//! Tour scenarios for `contexture::ctxvar`'s `TaskGroup` and `gather` (asyncio's structured
//! concurrency, seed 003 §16.4.2), each task in a copy of the caller's context.

use std::time::Duration;

use contexture::ctxvar::{gather, ContextVar, Outcome, TaskGroup};

use crate::{check, scenario};

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

/// The seed's `fetch_data(name, delay)`, its seconds turned into tenths of a tenth.
async fn fetch_data(name: &str, delay: u64) -> Result<String, String> {
    println!("   {name} starts (request {})", REQUEST_ID.get().unwrap());
    tokio::time::sleep(Duration::from_millis(delay * 20)).await;
    println!("   {name} done");
    Ok(format!("{name}'s data"))
}

/// The seed's `failing_task`: raises `ValueError("task failed")` after half a delay unit.
async fn failing_task() -> Result<String, String> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Err(format!(
        "ValueError: task failed (request {})",
        REQUEST_ID.get().unwrap()
    ))
}

/// Seed 003 §16.4.2 `gather_with_error` and `taskgroup_with_error`.
pub(crate) fn gather_with_a_failing_task() {
    scenario(
        "gather(return_exceptions=True) and a TaskGroup with a failing task",
        "await asyncio.gather(fetch_data(\"OK-Task\", 1), failing_task(), return_exceptions=True)",
    );
    runtime().block_on(async {
        REQUEST_ID.set("req-17".into());
        let tasks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>> =
            vec![Box::pin(fetch_data("OK-Task", 1)), Box::pin(failing_task())];
        let results = gather(tasks).expect("inside a runtime").await;
        for r in &results {
            match r {
                Outcome::Ok(value) => println!("   success: {value}"),
                Outcome::Err(error) => println!("   exception: {error}"),
                other => println!("   {other:?}"),
            }
        }
        check(
            results
                == [
                    Outcome::Ok("OK-Task's data".to_owned()),
                    Outcome::Err("ValueError: task failed (request req-17)".to_owned()),
                ],
            "gather returns every outcome in order, the error as a value; both tasks saw the \
             caller's request id",
        );

        println!("   -- the same two in a TaskGroup (except* ValueError):");
        let mut tg = TaskGroup::<String, String>::new().expect("inside a runtime");
        tg.spawn(fetch_data("OK-Task", 5)).unwrap();
        tg.spawn(failing_task()).unwrap();
        let eg = tg.join().await.unwrap_err();
        println!(
            "   TaskGroup caught: {:?} ({eg})",
            eg.errors().collect::<Vec<_>>()
        );
        check(
            eg.errors().collect::<Vec<_>>() == ["ValueError: task failed (request req-17)"],
            "the group's error lists the ValueError",
        );
        check(
            eg.outcomes()[0] == Outcome::Cancelled,
            "the slower OK-Task was cancelled by its sibling's failure, not counted as failed",
        );
    });
}

/// Seed 003 §16.4.2 `taskgroup_demo`, with a request id set by the caller.
pub(crate) fn request_id_in_a_task_group() {
    scenario(
        "TaskGroup: every task sees the caller's request id",
        "async with asyncio.TaskGroup() as tg: tg.create_task(tracked_fetch(\"TG-A\", 2)) ...",
    );
    runtime().block_on(async {
        REQUEST_ID.set("req-42".into());
        let mut tg = TaskGroup::<(String, String, String)>::new().expect("inside a runtime");
        for (name, delay) in [("TG-A", 2), ("TG-B", 1), ("TG-C", 3)] {
            tg.spawn_infallible(async move {
                let seen = REQUEST_ID.get().unwrap();
                let data = fetch_data(name, delay).await.unwrap();
                // A task's own set stays in its copy of the context.
                REQUEST_ID.set(format!("{name}-private"));
                (data, seen, REQUEST_ID.get().unwrap())
            })
            .unwrap();
        }
        REQUEST_ID.set("req-43".into()); // after the spawns: not seen by the tasks
        let results = tg.join().await.unwrap();
        println!("   all tasks done: {results:?}");
        check(
            results
                .iter()
                .map(|(data, ..)| data.as_str())
                .collect::<Vec<_>>()
                == ["TG-A's data", "TG-B's data", "TG-C's data"],
            "join gives the results in spawn order (asyncio's list: in completion order)",
        );
        check(
            results.iter().all(|(_, seen, _)| seen == "req-42"),
            "every task saw the request id the caller had set when it spawned them",
        );
        check(
            results
                .iter()
                .all(|(data, _, private)| private.starts_with(&data[..4])),
            "each task's set stayed in its own copy",
        );
        check(
            REQUEST_ID.get().as_deref() == Some("req-43"),
            "nothing a task set leaked back to the caller",
        );
    });
}
