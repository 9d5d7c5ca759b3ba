//! What runs where: associations (with canaries), rollback, distributions and invalidations;
//! every change is one revision the edges replicate.

use crate::*;
use store::AssociationRow;

impl Control {
    fn distribution_id(&self, tx: &rusqlite::Connection, given: Option<&str>) -> Result<String> {
        let ids: Vec<String> = store::distributions(tx)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        match given {
            Some(id) if ids.iter().any(|i| i == id) => Ok(id.to_string()),
            Some(id) => Err(ControlError::NotFound(format!("distribution {id}"))),
            None if ids.len() == 1 => Ok(ids[0].clone()),
            None if ids.is_empty() => Err(ControlError::invalid(
                "InvalidArgument",
                "there is no distribution yet: deploy one first (edge deploy --config edge.toml)",
            )),
            None => Err(ControlError::invalid(
                "InvalidArgument",
                format!(
                    "name the distribution (--distribution): one of {}",
                    ids.join(", ")
                ),
            )),
        }
    }

    fn association_row(
        &self,
        tx: &rusqlite::Transaction<'_>,
        distribution: &str,
        r: &AssociateRequest,
    ) -> Result<AssociationRow> {
        let stage = stage_of(&r.stage)?;
        let (name, version) = parse_qualified(&r.function)?;
        if r.include_body && !stage.is_request() {
            return Err(ControlError::invalid(
                "InvalidLambdaFunctionAssociation",
                "The IncludeBody option can only be used with viewer-request or origin-request events.",
            ));
        }
        if store::versions(tx, &name)?
            .iter()
            .all(|v| v.version != version)
        {
            return Err(ControlError::NotFound(format!(
                "function version {name}:{version}"
            )));
        }
        let canary = match (&r.canary, r.canary_percent) {
            (None, None) => None,
            (Some(c), Some(p)) if (1..=99).contains(&p) => {
                let (cn, cv) = parse_qualified(c)?;
                if store::versions(tx, &cn)?.iter().all(|v| v.version != cv) {
                    return Err(ControlError::NotFound(format!("function version {cn}:{cv}")));
                }
                Some((cn, cv, p))
            }
            _ => {
                return Err(ControlError::invalid(
                    "InvalidArgument",
                    "a canary needs both a function version and a percent from 1 to 99 (NAME:VERSION=PERCENT)",
                ))
            }
        };
        let behavior = behavior_key(r.behavior.as_deref());
        let existing = store::associations(tx)?.into_iter().find(|a| {
            a.distribution == distribution && a.behavior == behavior && a.stage == stage.as_str()
        });
        let previous_version = match existing {
            Some(e) if e.name == name && e.version != version => Some(e.version),
            Some(e) if e.name == name => e.previous_version,
            _ => None,
        };
        Ok(AssociationRow {
            distribution: distribution.to_string(),
            behavior,
            stage: stage.as_str().to_string(),
            name,
            version,
            include_body: r.include_body,
            canary,
            previous_version,
        })
    }

    /// Associates a version (and maybe a canary), or a CloudFront function's LIVE stage, with
    /// a stage; replaces what was there.
    pub fn associate(&self, r: &AssociateRequest) -> Result<u64> {
        Ok(self
            .change(|tx| {
                let d = self.distribution_id(tx, r.distribution.as_deref())?;
                self.put_association(tx, &d, r)
            })?
            .1)
    }

    fn put_association(
        &self,
        tx: &rusqlite::Transaction<'_>,
        distribution: &str,
        r: &AssociateRequest,
    ) -> Result<()> {
        match crate::cloudfront::cloudfront_function_of(&r.function) {
            Some(name) => {
                let row = self.function_association_row(tx, distribution, name, r)?;
                store::upsert_function_association(tx, &row)
            }
            None => {
                let row = self.association_row(tx, distribution, r)?;
                store::upsert_association(tx, &row)
            }
        }
    }

    pub fn disassociate(&self, s: &Slot) -> Result<u64> {
        Ok(self
            .change(|tx| {
                let d = self.distribution_id(tx, s.distribution.as_deref())?;
                let stage = stage_of(&s.stage)?;
                let b = behavior_key(s.behavior.as_deref());
                let lambda = store::delete_association(tx, &d, &b, stage.as_str())?;
                let cloudfront = store::delete_function_association(tx, &d, &b, stage.as_str())?;
                if !lambda && !cloudfront {
                    return Err(ControlError::NotFound(format!(
                        "association at {d}:{}:{stage}",
                        if b.is_empty() { "default" } else { &b }
                    )));
                }
                Ok(())
            })?
            .1)
    }

    pub fn associations(&self) -> Result<Vec<AssociationRow>> {
        self.store().associations()
    }

    pub fn function_associations(&self) -> Result<Vec<store::FunctionAssociationRow>> {
        self.store().function_associations()
    }

    /// Undoes a canary (the main version keeps all traffic) or, without one, returns each of
    /// the function's associations to the version it had before its last change.
    pub fn rollback(&self, name: &str) -> Result<(u64, Vec<String>)> {
        self.change(|tx| {
            let mut changed = Vec::new();
            for mut a in store::associations(tx)? {
                let involved = a.name == name || a.canary.as_ref().is_some_and(|c| c.0 == name);
                if !involved {
                    continue;
                }
                if a.canary.take().is_some() {
                    changed.push(format!("{}: canary removed, {}:{} serves all", slot_name(&a), a.name, a.version));
                } else if let Some(p) = a.previous_version.take() {
                    changed.push(format!("{}: {}:{} → {}:{p}", slot_name(&a), a.name, a.version, a.name));
                    a.version = p;
                } else {
                    continue;
                }
                store::upsert_association(tx, &a)?;
            }
            if changed.is_empty() {
                return Err(ControlError::Conflict(format!(
                    "nothing to roll back: no association of {name} has a canary or an earlier version"
                )));
            }
            Ok(changed)
        })
        .map(|(c, r)| (r, c))
    }

    /// Puts a distribution (and, when given, all its associations) in one change.
    pub fn put_distribution(&self, id: &str, r: &DistributionRequest) -> Result<u64> {
        let text = checked_config(id, &r.config)?;
        Ok(self
            .change(|tx| self.put_distribution_in(tx, id, &text, r))?
            .1)
    }

    /// `edge deploy`: puts every distribution given (each with its associations) and, with
    /// `replace`, removes the others, all in one change: every edge goes from the old set to
    /// the new one in one revision, or nothing changes.
    pub fn put_distributions(&self, r: &DistributionsRequest) -> Result<u64> {
        if r.distributions.is_empty() {
            return Err(ControlError::invalid(
                "InvalidArgument",
                "distributions is empty: give at least one",
            ));
        }
        let mut checked = Vec::with_capacity(r.distributions.len());
        for (i, d) in r.distributions.iter().enumerate() {
            if checked
                .iter()
                .any(|(id, _, _): &(&str, String, _)| *id == d.id)
            {
                return Err(ControlError::invalid(
                    "InvalidArgument",
                    format!("distributions[{i}]: Id {:?} is given twice", d.id),
                ));
            }
            let text = checked_config(&d.id, &d.request.config)
                .map_err(|e| e.within(&format!("distributions[{i}] ({})", d.id)))?;
            checked.push((d.id.as_str(), text, &d.request));
        }
        Ok(self
            .change(|tx| {
                if r.replace {
                    for (id, _) in store::distributions(tx)? {
                        if !checked.iter().any(|(keep, _, _)| *keep == id) {
                            store::delete_distribution(tx, &id)?;
                        }
                    }
                }
                for (i, (id, text, req)) in checked.iter().enumerate() {
                    self.put_distribution_in(tx, id, text, req)
                        .map_err(|e| e.within(&format!("distributions[{i}] ({id})")))?;
                }
                Ok(())
            })?
            .1)
    }

    fn put_distribution_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &str,
        text: &str,
        r: &DistributionRequest,
    ) -> Result<()> {
        store::put_distribution(tx, id, text)?;
        if let Some(assocs) = &r.associations {
            store::delete_associations_of(tx, id)?;
            for a in assocs {
                self.put_association(tx, id, a)?;
            }
        }
        Ok(())
    }

    /// Removes a distribution and its associations in one change (CloudFront's
    /// DeleteDistribution): every edge stops serving it at the next revision.
    pub fn delete_distribution(&self, id: &str) -> Result<u64> {
        Ok(self
            .change(|tx| {
                if !store::delete_distribution(tx, id)? {
                    return Err(ControlError::NotFound(format!("distribution {id}")));
                }
                Ok(())
            })?
            .1)
    }

    pub fn distributions(&self) -> Result<Vec<(String, String)>> {
        self.store().distributions()
    }

    pub fn invalidate(&self, distribution: Option<&str>, paths: &[String]) -> Result<u64> {
        edge_node::admin::check_paths(paths)
            .map_err(|e| ControlError::invalid("InvalidArgument", e.to_string()))?;
        Ok(self
            .change(|tx| {
                let d = match distribution {
                    Some(id) => Some(self.distribution_id(tx, Some(id))?),
                    None => None,
                };
                let revision = store::revision(tx)? + 1;
                store::insert_invalidation(tx, revision, d.as_deref(), paths)
            })?
            .1)
    }
}

pub(crate) fn uses(a: &AssociationRow, name: &str, version: u64) -> bool {
    (a.name == name && a.version == version)
        || a.canary
            .as_ref()
            .is_some_and(|c| c.0 == name && c.1 == version)
}

pub(crate) fn slot_name(a: &AssociationRow) -> String {
    slot(&a.distribution, &a.behavior, &a.stage)
}

/// `DISTRIBUTION:BEHAVIOR:STAGE`, the default behavior as `default`.
pub(crate) fn slot(distribution: &str, behavior: &str, stage: &str) -> String {
    let behavior = if behavior.is_empty() {
        "default"
    } else {
        behavior
    };
    format!("{distribution}:{behavior}:{stage}")
}

/// One `[[distributions]]` table of `config` checked as an edge would load it, with `Id` set
/// to `id`: the TOML text to store.
fn checked_config(id: &str, config: &str) -> Result<String> {
    let value: toml::Value = toml::from_str(config).map_err(|e| {
        ControlError::invalid(
            "InvalidArgument",
            format!("config is not TOML: {}", e.message()),
        )
    })?;
    let list = value
        .get("distributions")
        .and_then(|d| d.as_array())
        .filter(|d| d.len() == 1)
        .ok_or_else(|| {
            ControlError::invalid(
                "InvalidArgument",
                "config must hold exactly one [[distributions]] table",
            )
        })?;
    let mut table = list[0].clone();
    match table.get("Id").and_then(|v| v.as_str()) {
        Some(given) if given != id => {
            return Err(ControlError::invalid(
                "InvalidArgument",
                format!("the config's Id {given:?} is not the Id it is put under {id:?}"),
            ))
        }
        Some(_) => {}
        None => {
            if let Some(t) = table.as_table_mut() {
                t.insert("Id".into(), toml::Value::String(id.to_string()));
            }
        }
    }
    let mut doc = toml::map::Map::new();
    doc.insert("distributions".into(), toml::Value::Array(vec![table]));
    let text = toml::to_string(&toml::Value::Table(doc))
        .map_err(|e| ControlError::invalid("InvalidArgument", e.to_string()))?;
    edge_node::config::parse_distributions(&text)
        .map_err(|e| ControlError::invalid("InvalidDistributionConfig", e.to_string()))?;
    Ok(text)
}
