//! Generates the ISO 3166 tables (`$OUT_DIR/iso3166.rs`, included by src/viewer/iso3166.rs)
//! from the iso-codes data that pycountry ships (edge-node/data/, see its README): country
//! names (the common name where ISO has one) and first-level subdivisions (those without a
//! parent), as DB-IP's region names need them.

use std::fmt::Write;

fn main() {
    let data = std::path::Path::new("data");
    for f in ["iso3166-1.json", "iso3166-2.json"] {
        println!("cargo:rerun-if-changed=data/{f}");
    }
    let read = |f: &str| -> serde_json::Value {
        let text =
            std::fs::read_to_string(data.join(f)).unwrap_or_else(|e| panic!("data/{f}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("data/{f}: {e}"))
    };
    let countries = read("iso3166-1.json");
    let subdivisions = read("iso3166-2.json");
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().map(str::to_string);

    let mut c: Vec<(String, String)> = countries["3166-1"]
        .as_array()
        .expect("3166-1 is a list")
        .iter()
        .map(|x| {
            let code = text(x, "alpha_2").expect("alpha_2");
            let name = text(x, "common_name")
                .or_else(|| text(x, "name"))
                .expect("name");
            (code, name)
        })
        .collect();
    c.sort();
    let mut s: Vec<(String, String, String)> = subdivisions["3166-2"]
        .as_array()
        .expect("3166-2 is a list")
        .iter()
        .filter(|x| x.get("parent").is_none())
        .map(|x| {
            let code = text(x, "code").expect("code");
            let (country, sub) = code.split_once('-').expect("CC-SUB");
            // Names carry other forms in brackets ("Catalunya [Cataluña]"): the first is DB-IP's.
            let name = text(x, "name").expect("name");
            let name = match name.rfind(" [") {
                Some(i) if name.ends_with(']') => name[..i].to_string(),
                _ => name,
            };
            (country.to_string(), name, sub.to_string())
        })
        .collect();
    s.sort();

    let mut out = String::from(
        "/// (alpha-2 code, name), sorted by code.\npub static COUNTRIES: &[(&str, &str)] = &[\n",
    );
    for (code, name) in &c {
        let _ = writeln!(out, "    ({code:?}, {name:?}),");
    }
    out.push_str("];\n\n/// (country alpha-2, subdivision name, subdivision code without the country prefix) for\n/// first-level subdivisions, sorted by country then name.\npub static SUBDIVISIONS: &[(&str, &str, &str)] = &[\n");
    for (country, name, code) in &s {
        let _ = writeln!(out, "    ({country:?}, {name:?}, {code:?}),");
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("iso3166.rs");
    std::fs::write(dest, out).expect("write iso3166.rs");
}
