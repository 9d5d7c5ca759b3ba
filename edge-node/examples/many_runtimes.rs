//! How many deno_core runtimes (QuickJS) a thread, and a process, can make: each runtime
//! loads one ES module (`esm`) or runs one script; every thread makes `per_thread` of them.
//! `cargo run -p edge-node --example many_runtimes -- esm 100 5`
use deno_core::{
    JsRuntime, ModuleSpecifier, PollEventLoopOptions, RuntimeOptions, StaticModuleLoader,
};
use std::rc::Rc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let esm = args.get(1).map(String::as_str) == Some("esm");
    let per_thread: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let threads: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut total = 0;
    for t in 0..threads {
        let made = std::thread::spawn(move || make(esm, per_thread))
            .join()
            .unwrap_or(0);
        total += made;
        println!("thread {t}: {made} runtimes (total {total})");
        if made < per_thread {
            return;
        }
    }
}

fn make(esm: bool, n: usize) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..n {
            let spec = ModuleSpecifier::parse("file:///m.mjs").unwrap();
            let loader =
                StaticModuleLoader::new([(spec.clone(), "export const x = 1;".to_string())]);
            let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                JsRuntime::new(RuntimeOptions {
                    module_loader: Some(Rc::new(loader)),
                    ..Default::default()
                })
            }));
            let Ok(mut js) = made else { return i };
            if esm {
                let Ok(id) = js.load_main_es_module(&spec).await else {
                    return i;
                };
                let ev = js.mod_evaluate(id);
                if js
                    .with_event_loop_promise(Box::pin(ev), PollEventLoopOptions::default())
                    .await
                    .is_err()
                {
                    return i;
                }
            } else if js
                .execute_script("s.js", "(function(){ return 1 })")
                .is_err()
            {
                return i;
            }
        }
        n
    })
}
