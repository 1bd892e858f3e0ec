//! The bounded fuzz run of every test run: the suite loader and the expectation decoder on
//! mutations of real suites (the malformed corpus, the example suites, the regressions the
//! long fuzz runs found), with proptest shrinking whatever fails to its smallest input. The
//! long runs use the same harness under libFuzzer: `cargo +nightly fuzz run load` in `fuzz/`.

mod common;
#[path = "support/load_any.rs"]
mod load_any;

use std::path::PathBuf;

use proptest::prelude::*;

use common::*;

/// The inputs mutations start from: every suite the tests hold, and the regressions.
fn seeds() -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        fixture("bad"),
        root().join("cases"),
        root().join("fuzz/regressions"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    // A suite with expectations of every kind, and a response to judge them against.
    seeds.push(
        b"function:\n  runtime: python3.11\n  handler: app.echo\n  code: ../functions/py\ncases:\n  - name: a\n    expect:\n      status: 200\n      headers: {content-type: /json/}\n      body_contains: {id: 1}\n      assert:\n        - {path: \"$.body.items[?@.n > 1]\", length: 2}\n        - {path: $.x, matches: \"^a\", all: true}\n      ignore: [$.body.t]\n      logs: {contains: [x], matches: [\"a+\"]}\n%%\n{\"statusCode\": 200, \"headers\": {\"content-type\": \"application/json\"}, \"body\": \"{\\\"id\\\": 1, \\\"items\\\": [{\\\"n\\\": 2}, {\\\"n\\\": 3}]}\"}".to_vec(),
    );
    seeds
}

/// One change to an input.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    /// Line `at` of the input becomes line `line` of seed `seed`.
    Splice {
        at: usize,
        seed: usize,
        line: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes YAML and JSON give meaning to, more often than others.
    let byte = prop_oneof![
        3 => prop::sample::select(b"{}[]:-,'\"&*!|>#%@`\\\n\t $.?=/0123456789".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(at, seed, line)| Edit::Splice { at, seed, line }),
    ]
}

fn apply(mut input: Vec<u8>, edits: &[Edit], seeds: &[Vec<u8>]) -> Vec<u8> {
    for edit in edits {
        let len = input.len().max(1);
        match *edit {
            Edit::Replace(at, b) if !input.is_empty() => input[at % len] = b,
            Edit::Insert(at, b) => input.insert(at % (input.len() + 1), b),
            Edit::Delete(at) if !input.is_empty() => {
                input.remove(at % len);
            }
            Edit::Splice { at, seed, line } => {
                let donor = &seeds[seed % seeds.len()];
                let lines: Vec<&[u8]> = donor.split(|b| *b == b'\n').collect();
                let mut own: Vec<Vec<u8>> =
                    input.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                let at = at % own.len();
                own[at] = lines[line % lines.len()].to_vec();
                input = own.join(&b'\n');
            }
            _ => {}
        }
    }
    input
}

#[test]
fn every_seed_and_regression_loads_or_is_refused_without_a_panic() {
    let dir = fixture("bad");
    for seed in seeds() {
        load_any::load_any(&dir, &seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_mutated_suite_loads_or_is_refused_without_a_panic(
        seed in any::<usize>(),
        edits in prop::collection::vec(edit(), 1..12),
    ) {
        let seeds = seeds_once();
        let input = apply(seeds[seed % seeds.len()].clone(), &edits, seeds);
        load_any::load_any(&fixture("bad"), &input);
    }
}

fn seeds_once() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(seeds)
}
