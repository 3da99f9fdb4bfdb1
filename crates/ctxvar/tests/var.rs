//! `ContextVar` and `Token`: lookup order, defaults, set/reset (including errors and
//! non-LIFO order), `set_scoped`, `with`, and var identity (moves, dropped vars).

use contexture_ctxvar::{copy_context, Context, ContextVar, LookupError, ResetError};

#[derive(Clone, PartialEq)]
struct NotDebug(u32);

#[test]
fn lookup_order_is_context_then_default_then_nothing() {
    static NONE: ContextVar<u32> = ContextVar::new("none");
    static DEF: ContextVar<u32> = ContextVar::with_default("def", 5);
    assert_eq!(NONE.get(), None);
    assert_eq!(NONE.try_get(), Err(LookupError { name: "none" }));
    assert_eq!(DEF.get(), Some(5));
    assert_eq!(DEF.try_get(), Ok(5));
    DEF.set(6);
    assert_eq!(DEF.get(), Some(6));
    NONE.set(1);
    assert_eq!(NONE.try_get(), Ok(1));
}

#[test]
fn get_or_argument_wins_over_the_var_default() {
    static V: ContextVar<&str> = ContextVar::with_default("v", "own");
    assert_eq!(V.get_or("arg"), "arg");
    V.set("set");
    assert_eq!(V.get_or("arg"), "set");
}

#[test]
fn a_default_is_never_stored_in_a_context() {
    static V: ContextVar<u32> = ContextVar::with_default("v", 1);
    assert_eq!(V.get(), Some(1));
    let ctx = copy_context();
    assert_eq!(ctx.get(&V), None);
    assert!(!ctx.contains(&V));
    assert!(ctx.is_empty());
    let token = V.set(2);
    assert_eq!(token.old_value(), None);
    V.reset(token).unwrap();
    assert!(!copy_context().contains(&V));
    assert_eq!(V.get(), Some(1));
}

#[test]
fn reset_restores_previous_or_unbinds_in_any_order() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let t1 = V.set(1);
    let t2 = V.set(2);
    let t3 = V.set(3);
    assert_eq!(t2.old_value(), Some(&1));
    // Not LIFO: reset the middle one first.
    V.reset(t2).unwrap();
    assert_eq!(V.get(), Some(1));
    V.reset(t3).unwrap();
    assert_eq!(V.get(), Some(2));
    V.reset(t1).unwrap();
    assert_eq!(V.get(), None);
    assert!(!copy_context().contains(&V));
}

#[test]
fn reset_with_a_token_of_another_var_is_refused_and_gives_the_token_back() {
    static A: ContextVar<u32> = ContextVar::new("a");
    static B: ContextVar<u32> = ContextVar::new("b");
    static UNUSED: ContextVar<u32> = ContextVar::new("unused");
    B.set(7);
    let token = A.set(1);
    let err = B.reset(token).unwrap_err();
    assert!(matches!(err, ResetError::WrongVar(_)));
    assert_eq!(B.get(), Some(7));
    let err = UNUSED.reset(err.into_token()).unwrap_err();
    assert!(matches!(err, ResetError::WrongVar(_)));
    A.reset(err.into_token()).unwrap();
    assert_eq!(A.get(), None);
}

#[test]
fn reset_in_another_context_is_refused() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let outer = V.set(1);
    let ctx = copy_context();
    let err = ctx.run(|| V.reset(outer)).unwrap().unwrap_err();
    assert!(matches!(err, ResetError::WrongContext(_)));
    assert_eq!(err.to_string(), "token was created in another context");
    assert_eq!(ctx.get(&V), Some(1));
    // Back where it was made, it works.
    V.reset(err.into_token()).unwrap();
    assert_eq!(V.get(), None);

    // A token made inside a context can be used in a later run of the same context.
    let inner = ctx.run(|| V.set(2)).unwrap();
    let Err(ResetError::WrongContext(t)) = V.reset(inner) else {
        panic!("a token of `ctx` must be refused outside it");
    };
    ctx.run(|| V.reset(t)).unwrap().unwrap();
    assert_eq!(ctx.get(&V), Some(1));

    // Two different threads' own contexts are different contexts.
    let token = V.set(3);
    let back = std::thread::spawn(move || V.reset(token).map_err(ResetError::into_token))
        .join()
        .unwrap()
        .unwrap_err();
    V.reset(back).unwrap();
}

#[test]
fn errors_display_lower_case_and_debug_without_t_debug() {
    static V: ContextVar<NotDebug> = ContextVar::new("v");
    static W: ContextVar<NotDebug> = ContextVar::new("w");
    let token = V.set(NotDebug(1));
    let token2 = V.set(NotDebug(2));
    assert_eq!(
        format!("{token2:?}"),
        "Token { var: \"v\", old_value: \"<value>\" }"
    );
    let err = W.reset(token).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token was created by another context variable (`v`)"
    );
    assert!(format!("{err:?}").starts_with("WrongVar(Token"));
    assert!(format!("{V:?}").contains("\"v\""));
    assert_eq!(
        LookupError { name: "x" }.to_string(),
        "context variable `x` has no value"
    );
    assert!(V.get() == Some(NotDebug(2)));
}

#[test]
fn set_scoped_resets_on_drop_and_on_unwind() {
    static V: ContextVar<u32> = ContextVar::new("v");
    {
        let _g = V.set_scoped(1);
        {
            let _g2 = V.set_scoped(2);
            assert_eq!(V.get(), Some(2));
        }
        assert_eq!(V.get(), Some(1));
    }
    assert_eq!(V.get(), None);
    let caught = std::panic::catch_unwind(|| {
        let _g = V.set_scoped(3);
        panic!("boom");
    });
    assert!(caught.is_err());
    assert_eq!(V.get(), None);
}

#[test]
fn set_scoped_guard_dropped_in_another_context_panics() {
    static V: ContextVar<u32> = ContextVar::new("v");
    let guard = V.set_scoped(1);
    let ctx = Context::new();
    let result = ctx.run(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(guard))));
    assert!(result.unwrap().is_err());
}

#[test]
fn with_borrows_and_tolerates_writes_inside() {
    static V: ContextVar<Vec<u32>> = ContextVar::new("v");
    static D: ContextVar<String> = ContextVar::with_default("d", String::new());
    assert!(V.with(|v| v.is_none()));
    assert_eq!(D.with(|d| d.map(String::len)), Some(0));
    V.set(vec![1, 2, 3]);
    let sum = V.with(|v| {
        let v = v.unwrap();
        V.set(vec![]); // the borrowed value stays alive
        v.iter().sum::<u32>()
    });
    assert_eq!(sum, 6);
    assert_eq!(V.get(), Some(vec![]));
}

#[test]
fn name_and_default_accessors() {
    static V: ContextVar<u8> = ContextVar::with_default("level", 3);
    assert_eq!(V.name(), "level");
    assert_eq!(V.default(), Some(&3));
    assert_eq!(V.set(1).name(), "level");
}

#[test]
fn moving_a_var_keeps_its_values() {
    let var = ContextVar::new("moved");
    var.set(String::from("kept"));
    let boxed = Box::new(var);
    assert_eq!(boxed.get().as_deref(), Some("kept"));
    let back = *boxed;
    assert_eq!(back.get().as_deref(), Some("kept"));
}

#[test]
fn a_new_var_never_sees_a_dropped_vars_values() {
    for i in 0..100u32 {
        let fresh: ContextVar<u32> = ContextVar::new("fresh");
        assert_eq!(fresh.get(), None, "round {i}");
        fresh.set(i);
        assert_eq!(fresh.get(), Some(i));
        // `fresh` goes out of scope here; the next round's var is a new one.
    }
    // Dropped vars' values stay in the context (as in Python), under their names.
    assert!(copy_context().len() >= 100);
}

#[test]
fn vars_of_different_types_do_not_mix() {
    static A: ContextVar<u64> = ContextVar::new("a");
    static B: ContextVar<String> = ContextVar::new("b");
    A.set(1);
    B.set("x".into());
    assert_eq!(A.get(), Some(1));
    assert_eq!(B.get().as_deref(), Some("x"));
}

#[test]
fn many_vars_cross_the_small_map_threshold() {
    let vars: Vec<ContextVar<usize>> = (0..200).map(|_| ContextVar::new("many")).collect();
    for (i, v) in vars.iter().enumerate() {
        v.set(i);
        assert_eq!(v.get(), Some(i));
    }
    let snapshot = copy_context();
    let tokens: Vec<_> = vars.iter().map(|v| v.set(1000)).collect();
    for (i, v) in vars.iter().enumerate() {
        assert_eq!(v.get(), Some(1000));
        assert_eq!(snapshot.get(v), Some(i));
    }
    for (v, t) in vars.iter().zip(tokens).rev() {
        v.reset(t).unwrap();
    }
    for (i, v) in vars.iter().enumerate() {
        assert_eq!(v.get(), Some(i));
    }
}
