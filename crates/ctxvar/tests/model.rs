//! Property test: random trees of set / reset / get / copy / run / context reads over
//! nested contexts, checked step by step against a plain reference model (hash maps
//! copied by value).

use std::collections::HashMap;
use std::sync::Arc;

use contexture_ctxvar::{copy_context, AlreadyEntered, Context, ContextVar, ResetError, Token};
use proptest::prelude::*;

const VARS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Set(usize, u32),
    /// Reset the token at this index (mod the number held) through var `.1`'s hands
    /// (mostly the token's own var).
    Reset(usize, Option<usize>),
    Get(usize),
    GetOr(usize, u32),
    CopyCurrent,
    CopyOf(usize),
    CtxGet(usize, usize),
    CtxLen(usize),
    Run(usize, Vec<Op>),
}

fn op() -> impl Strategy<Value = Op> {
    let leaf = prop_oneof![
        4 => (0..VARS, 0..100u32).prop_map(|(v, x)| Op::Set(v, x)),
        3 => (0..64usize, prop::option::weighted(0.2, 0..VARS)).prop_map(|(t, v)| Op::Reset(t, v)),
        3 => (0..VARS).prop_map(Op::Get),
        1 => (0..VARS, 0..100u32).prop_map(|(v, x)| Op::GetOr(v, x)),
        2 => Just(Op::CopyCurrent),
        1 => (0..16usize).prop_map(Op::CopyOf),
        2 => (0..16usize, 0..VARS).prop_map(|(c, v)| Op::CtxGet(c, v)),
        1 => (0..16usize).prop_map(Op::CtxLen),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            3 => inner.clone(),
            1 => (0..16usize, prop::collection::vec(inner, 0..8)).prop_map(|(c, ops)| Op::Run(c, ops)),
        ]
    })
}

type ModelMap = HashMap<usize, u32>;

/// Which context: the thread's own (`None`) or `contexts[i]`.
type Where = Option<usize>;

struct ModelCtx {
    /// What the context holds now (for the entered one: its live values).
    live: ModelMap,
    /// What readers on a thread where it is not entered see: the values at its last exit.
    published: ModelMap,
}

struct Harness {
    vars: Vec<ContextVar<u32>>,
    defaults: Vec<Option<u32>>,
    contexts: Vec<Arc<Context>>,
    models: Vec<ModelCtx>,
    base: ModelMap,
    /// Entered contexts, innermost last.
    stack: Vec<usize>,
    tokens: Vec<(Token<u32>, usize, Where, Option<u32>)>,
}

impl Harness {
    fn current(&self) -> Where {
        self.stack.last().copied()
    }

    fn current_map(&mut self) -> &mut ModelMap {
        match self.current() {
            None => &mut self.base,
            Some(i) => &mut self.models[i].live,
        }
    }

    fn expected(&mut self, var: usize) -> Option<u32> {
        self.current_map().get(&var).copied().or(self.defaults[var])
    }

    /// What a read of context `c` on this thread sees: its live values when it is entered
    /// here (current, or further down under a nested entry), else those of its last exit.
    fn seen_from_outside(&self, c: usize) -> &ModelMap {
        if self.stack.contains(&c) {
            &self.models[c].live
        } else {
            &self.models[c].published
        }
    }

    fn exec(&mut self, ops: &[Op]) {
        for op in ops {
            match op {
                Op::Set(v, x) => {
                    let old = self.current_map().insert(*v, *x);
                    let token = self.vars[*v].set(*x);
                    assert_eq!(token.old_value().copied(), old);
                    let here = self.current();
                    self.tokens.push((token, *v, here, old));
                }
                Op::Reset(t, by) => {
                    if self.tokens.is_empty() {
                        continue;
                    }
                    let (token, v, made_in, old) = self.tokens.swap_remove(t % self.tokens.len());
                    let by = by.unwrap_or(v);
                    match self.vars[by].reset(token) {
                        Ok(()) => {
                            assert_eq!(by, v);
                            assert_eq!(made_in, self.current());
                            match old {
                                Some(x) => self.current_map().insert(v, x),
                                None => self.current_map().remove(&v),
                            };
                        }
                        Err(ResetError::WrongVar(token)) => {
                            assert_ne!(by, v);
                            self.tokens.push((token, v, made_in, old));
                        }
                        Err(ResetError::WrongContext(token)) => {
                            assert_eq!(by, v);
                            assert_ne!(made_in, self.current());
                            self.tokens.push((token, v, made_in, old));
                        }
                    }
                }
                Op::Get(v) => {
                    let want = self.expected(*v);
                    assert_eq!(self.vars[*v].get(), want);
                    assert_eq!(self.vars[*v].with(|x| x.copied()), want);
                }
                Op::GetOr(v, x) => {
                    let want = self.current_map().get(v).copied().unwrap_or(*x);
                    assert_eq!(self.vars[*v].get_or(*x), want);
                }
                Op::CopyCurrent => {
                    let map = self.current_map().clone();
                    self.push(copy_context(), map);
                }
                Op::CopyOf(c) => {
                    if self.contexts.is_empty() {
                        continue;
                    }
                    let c = c % self.contexts.len();
                    let map = self.seen_from_outside(c).clone();
                    let copy = self.contexts[c].copy();
                    self.push(copy, map);
                }
                Op::CtxGet(c, v) => {
                    if self.contexts.is_empty() {
                        continue;
                    }
                    let c = c % self.contexts.len();
                    let want = self.seen_from_outside(c).get(v).copied();
                    assert_eq!(self.contexts[c].get(&self.vars[*v]), want);
                    assert_eq!(self.contexts[c].contains(&self.vars[*v]), want.is_some());
                }
                Op::CtxLen(c) => {
                    if self.contexts.is_empty() {
                        continue;
                    }
                    let c = c % self.contexts.len();
                    let want = self.seen_from_outside(c).len();
                    assert_eq!(self.contexts[c].len(), want);
                    assert_eq!(self.contexts[c].var_names().len(), want);
                }
                Op::Run(c, inner) => {
                    if self.contexts.is_empty() {
                        continue;
                    }
                    let c = c % self.contexts.len();
                    let ctx = self.contexts[c].clone();
                    let entered = self.stack.contains(&c);
                    let result = ctx.run(|| {
                        self.stack.push(c);
                        self.exec(inner);
                        self.stack.pop();
                    });
                    if entered {
                        assert_eq!(result, Err(AlreadyEntered));
                    } else {
                        assert_eq!(result, Ok(()));
                        self.models[c].published = self.models[c].live.clone();
                    }
                }
            }
        }
    }

    fn push(&mut self, ctx: Context, map: ModelMap) {
        self.contexts.push(Arc::new(ctx));
        self.models.push(ModelCtx {
            live: map.clone(),
            published: map,
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 8 } else { 3000 },
        // Miri isolates the file system: no regression file there.
        failure_persistence: if cfg!(miri) {
            None
        } else {
            ProptestConfig::default().failure_persistence
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn contexts_behave_like_copied_hash_maps(ops in prop::collection::vec(op(), 1..40)) {
        // Fresh vars per case (fresh ids).
        let vars: Vec<ContextVar<u32>> = vec![
            ContextVar::new("a"),
            ContextVar::with_default("b", 42),
            ContextVar::new("c"),
        ];
        let mut h = Harness {
            vars,
            defaults: vec![None, Some(42), None],
            contexts: Vec::new(),
            models: Vec::new(),
            base: HashMap::new(),
            stack: Vec::new(),
            tokens: Vec::new(),
        };
        // Each case runs in a fresh root context (the model's "own context").
        Context::new().run(|| h.exec(&ops)).unwrap();
    }
}
