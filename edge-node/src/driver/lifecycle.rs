//! A worker's isolates across configuration changes: made before a configuration is swapped
//! in (never on a request), kept while any request still runs on a replaced configuration,
//! dropped once none does.

use super::Worker;
use crate::config::Distributions;
use crate::js::FnError;
use std::sync::Arc;

impl Worker {
    /// Creates and warms this worker's isolates for every function `config` associates.
    pub async fn load_functions(&self, config: &Arc<Distributions>) -> Result<(), FnError> {
        *self.pending.borrow_mut() = Some(config.clone());
        for code in config.functions() {
            self.runner.load(&code).await?;
        }
        Ok(())
    }

    /// Marks the isolates of functions `current` no longer associates for removal once no
    /// request still runs on `retired` (the configuration it replaced).
    pub fn retire(&self, current: Arc<Distributions>, retired: Arc<Distributions>) {
        self.retired.borrow_mut().push(retired);
        if self
            .pending
            .borrow()
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &current))
        {
            *self.pending.borrow_mut() = None;
        }
        *self.current.borrow_mut() = Some(current);
        self.collect_retired();
    }

    /// Replaces every isolate of this worker with a fresh one; how many were created.
    pub async fn recycle_isolates(&self) -> Result<usize, FnError> {
        self.runner.recycle().await
    }

    /// Drops isolates no configuration in use needs any more.
    pub fn collect_retired(&self) {
        let mut retired = self.retired.borrow_mut();
        // Held only here (and not by any request): nothing can invoke its functions again.
        retired.retain(|c| Arc::strong_count(c) > 1);
        let Some(current) = self.current.borrow().clone() else {
            return;
        };
        let mut keep: Vec<String> = current
            .functions()
            .iter()
            .map(|c| c.key().to_string())
            .collect();
        let pending = self.pending.borrow();
        for c in retired.iter().chain(pending.iter()) {
            keep.extend(c.functions().iter().map(|f| f.key().to_string()));
        }
        if self.runner.loaded().iter().any(|k| !keep.contains(k)) {
            self.runner.retain(&keep);
        }
    }
}

#[cfg(test)]
mod tests {
    /// A collection between loading a new configuration and swapping it in must not drop the
    /// new configuration's isolates (found by the publish benchmark: a request right after a
    /// change failed with "not loaded").
    #[test]
    fn a_collection_while_a_change_is_pending_keeps_its_isolates() {
        use crate::config::{add_function, from_origin_url};
        use crate::js::FunctionCode;
        use crate::lambda::Stage;
        use std::sync::Arc;
        let with = |v: u64| {
            let mut c = from_origin_url("http://127.0.0.1:9").unwrap();
            let code = FunctionCode::new(
                "f",
                v,
                "f.js",
                format!("exports.handler = async (e) => e.Records[0].cf.response; // {v}"),
            );
            add_function(&mut c, Stage::ViewerResponse, Arc::new(code), false).unwrap();
            c
        };
        let shared = Arc::new(crate::driver::NodeShared::new(with(1), None, None, None));
        let (one, two) = (
            Arc::new(with(1).distributions),
            Arc::new(with(2).distributions),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let w = crate::driver::Worker::new(shared, 1);
            w.load_functions(&one).await.unwrap();
            w.retire(one.clone(), Arc::new((*one).clone()));
            w.load_functions(&two).await.unwrap();
            w.collect_retired();
            let key = two.functions()[0].key().to_string();
            assert!(w.runner.loaded().contains(&key), "pending version dropped");
            w.retire(two.clone(), one.clone());
            drop(one);
            w.collect_retired();
            assert_eq!(w.runner.loaded(), vec![key]);
        });
    }
}
