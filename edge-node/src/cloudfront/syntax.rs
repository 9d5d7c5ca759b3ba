//! Just enough of a JavaScript tokenizer to check a CloudFront function before it runs: which
//! runtime's syntax it uses (runtime 1.0 has no `const`, `let`, `async`, `await` or `import`),
//! whether it declares a top-level `handler`, and to turn runtime 2.0's `import … from '…'`
//! lines into bindings the function's wrapper gives (a CloudFront function is a script, not a
//! module). Strings, template literals, comments and regular expressions are skipped, so a
//! keyword inside them does not count.

/// One token of the source: its text, where it starts (1-based line and column) and how deep
/// in braces, brackets and parentheses it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub start: usize,
    pub line: usize,
    pub column: usize,
    pub depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    Str,
    Template,
    Regex,
    Punct,
}

/// The tokens of `src`, or where it stops making sense (an unterminated string, comment or
/// template; unbalanced brackets).
pub fn tokens(src: &str) -> Result<Vec<Token<'_>>, String> {
    let b = src.as_bytes();
    let mut out: Vec<Token<'_>> = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1usize, 0usize);
    // Open brackets; a `{` opened by `${` in a template is marked so its `}` resumes it.
    let mut stack: Vec<u8> = Vec::new();
    let at = |line: usize, i: usize, ls: usize| format!("{line}:{}", i - ls + 1);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            line_start = i + 1;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (start, tline, tcol) = (i, line, i - line_start + 1);
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let Some(end) = src[i + 2..].find("*/") else {
                return Err(format!(
                    "{}: SyntaxError: an unterminated comment",
                    at(tline, start, line_start)
                ));
            };
            for &x in &b[i..i + 2 + end] {
                if x == b'\n' {
                    line += 1;
                }
            }
            if let Some(nl) = src[..i + 2 + end].rfind('\n') {
                if nl >= i {
                    line_start = nl + 1;
                }
            }
            i += end + 4;
            continue;
        }
        let kind;
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' {
                    i += 1;
                }
                if i < b.len() && b[i] == b'\n' {
                    return Err(format!(
                        "{}: SyntaxError: an unterminated string",
                        at(tline, start, line_start)
                    ));
                }
                i += 1;
            }
            if i >= b.len() {
                return Err(format!(
                    "{}: SyntaxError: an unterminated string",
                    at(tline, start, line_start)
                ));
            }
            i += 1;
            kind = Kind::Str;
        } else if c == b'`' || (c == b'}' && stack.last() == Some(&b'$')) {
            if c == b'}' {
                stack.pop();
            }
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return Err(format!(
                            "{}: SyntaxError: an unterminated template literal",
                            at(tline, start, line_start)
                        ))
                    }
                    Some(b'\\') => i += 2,
                    Some(b'`') => {
                        i += 1;
                        break;
                    }
                    Some(b'$') if b.get(i + 1) == Some(&b'{') => {
                        stack.push(b'$');
                        i += 2;
                        break;
                    }
                    Some(b'\n') => {
                        line += 1;
                        line_start = i + 1;
                        i += 1;
                    }
                    Some(_) => i += 1,
                }
            }
            kind = Kind::Template;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            kind = Kind::Number;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            kind = Kind::Ident;
        } else if c == b'/' && regex_allowed(out.last()) {
            i += 1;
            let mut class = false;
            while i < b.len() && (b[i] != b'/' || class) {
                match b[i] {
                    b'\\' => i += 1,
                    b'[' => class = true,
                    b']' => class = false,
                    b'\n' => {
                        return Err(format!(
                            "{}: SyntaxError: an unterminated regular expression",
                            at(tline, start, line_start)
                        ))
                    }
                    _ => {}
                }
                i += 1;
            }
            i += 1;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            kind = Kind::Regex;
        } else {
            match c {
                b'{' | b'(' | b'[' => stack.push(c),
                b'}' | b')' | b']' => {
                    let open = match c {
                        b'}' => b'{',
                        b')' => b'(',
                        _ => b'[',
                    };
                    if stack.pop() != Some(open) {
                        return Err(format!(
                            "{}: SyntaxError: Unexpected token \"{}\"",
                            at(tline, start, line_start),
                            c as char
                        ));
                    }
                }
                _ => {}
            }
            // Multi-character punctuators matter only for `=>`, `?.` and `??`.
            let two = src.get(i..i + 2).unwrap_or("");
            i += if matches!(two, "=>" | "?." | "??") {
                2
            } else {
                1
            };
            kind = Kind::Punct;
        }
        let depth = match kind {
            Kind::Punct if matches!(c, b'{' | b'(' | b'[') => stack.len() - 1,
            Kind::Punct if matches!(c, b'}' | b')' | b']') => stack.len(),
            _ => stack.len(),
        };
        out.push(Token {
            kind,
            text: &src[start..i.min(src.len())],
            start,
            line: tline,
            column: tcol,
            depth,
        });
    }
    if let Some(open) = stack.last() {
        let what = if *open == b'$' {
            "template literal".to_string()
        } else {
            format!("\"{}\"", *open as char)
        };
        return Err(format!(
            "{line}:1: SyntaxError: an unclosed {what} at the end of the file"
        ));
    }
    Ok(out)
}

/// Whether a `/` after `prev` starts a regular expression (not a division).
fn regex_allowed(prev: Option<&Token<'_>>) -> bool {
    match prev {
        None => true,
        Some(t) => match t.kind {
            Kind::Number | Kind::Str | Kind::Template | Kind::Regex => false,
            Kind::Ident => matches!(
                t.text,
                "return"
                    | "typeof"
                    | "instanceof"
                    | "in"
                    | "of"
                    | "new"
                    | "delete"
                    | "void"
                    | "throw"
                    | "case"
                    | "do"
                    | "else"
            ),
            Kind::Punct => !matches!(t.text, ")" | "]" | "}"),
        },
    }
}

/// Refuses what runtime 1.0 does not have, naming the token and where it is.
pub fn refuse_runtime_2(tokens: &[Token<'_>]) -> Result<(), String> {
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Ident || is_property(tokens, i) {
            continue;
        }
        let next = tokens.get(i + 1);
        let refused = match t.text {
            "const" | "import" | "await" => true,
            // `let` and `async` are also plain names in ES 5.1.
            "let" => next.is_some_and(|n| n.kind == Kind::Ident || n.text == "[" || n.text == "{"),
            "async" => next.is_some_and(|n| n.kind == Kind::Ident || n.text == "("),
            _ => false,
        };
        if refused {
            return Err(format!(
                "{}:{}: SyntaxError: Token \"{}\" not supported in this version (cloudfront-js-1.0; cloudfront-js-2.0 has it)",
                t.line, t.column, t.text
            ));
        }
    }
    Ok(())
}

/// `x.const` or `{ let: 1 }`: a property name, not a keyword.
fn is_property(tokens: &[Token<'_>], i: usize) -> bool {
    (i > 0 && matches!(tokens[i - 1].text, "." | "?."))
        || tokens.get(i + 1).is_some_and(|n| {
            n.text == ":"
                && tokens
                    .get(i.wrapping_sub(1))
                    .is_some_and(|p| matches!(p.text, "{" | ","))
        })
}

/// Whether the script declares `handler` at its top level (a function declaration or a
/// variable).
pub fn declares_handler(tokens: &[Token<'_>]) -> bool {
    tokens.windows(2).enumerate().any(|(i, w)| {
        w[1].text == "handler"
            && w[1].depth == 0
            && (w[0].text == "function" || matches!(w[0].text, "var" | "let" | "const"))
            && !is_property(tokens, i + 1)
    })
}

/// One `import` statement of runtime 2.0: what it binds, from which module, and the source
/// range it takes.
#[derive(Debug, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    /// `var <binding> = __cff_import("<module>");`
    pub binding: String,
    pub range: std::ops::Range<usize>,
}

/// The top-level `import` statements (`import x from 'm'`, `import * as x from 'm'`,
/// `import { a, b as c } from 'm'`, `import x, { a } from 'm'`).
pub fn imports(src: &str, tokens: &[Token<'_>]) -> Result<Vec<Import>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.kind != Kind::Ident || t.text != "import" || t.depth != 0 || is_property(tokens, i) {
            i += 1;
            continue;
        }
        let bad = || {
            format!("{}:{}: SyntaxError: an import this runtime does not understand (use `import name from 'module'`)", t.line, t.column)
        };
        let mut j = i + 1;
        let mut bindings: Vec<String> = Vec::new();
        let mut named: Vec<String> = Vec::new();
        loop {
            let Some(n) = tokens.get(j) else {
                return Err(bad());
            };
            match n.text {
                "from" => break,
                "," => j += 1,
                "*" => {
                    // * as name
                    let name = tokens
                        .get(j + 2)
                        .filter(|x| x.kind == Kind::Ident && tokens[j + 1].text == "as")
                        .ok_or_else(bad)?;
                    bindings.push(name.text.to_string());
                    j += 3;
                }
                "{" => {
                    j += 1;
                    while let Some(x) = tokens.get(j) {
                        match x.text {
                            "}" => break,
                            "," => j += 1,
                            _ if x.kind == Kind::Ident => {
                                if tokens.get(j + 1).is_some_and(|a| a.text == "as") {
                                    let local = tokens
                                        .get(j + 2)
                                        .filter(|l| l.kind == Kind::Ident)
                                        .ok_or_else(bad)?;
                                    named.push(format!("{}: {}", x.text, local.text));
                                    j += 3;
                                } else {
                                    named.push(x.text.to_string());
                                    j += 1;
                                }
                            }
                            _ => return Err(bad()),
                        }
                    }
                    j += 1;
                }
                _ if n.kind == Kind::Ident => {
                    bindings.push(n.text.to_string());
                    j += 1;
                }
                _ => return Err(bad()),
            }
        }
        let module = tokens
            .get(j + 1)
            .filter(|m| m.kind == Kind::Str)
            .ok_or_else(bad)?;
        let name = module.text[1..module.text.len() - 1].to_string();
        let mut end = module.start + module.text.len();
        if tokens.get(j + 2).is_some_and(|s| s.text == ";") {
            end = tokens[j + 2].start + 1;
            j += 1;
        }
        let value = format!("__cff_import({})", module.text);
        let mut binding = String::new();
        for b in &bindings {
            binding.push_str(&format!("var {b} = {value}; "));
        }
        if !named.is_empty() {
            binding.push_str(&format!("var {{ {} }} = {value}; ", named.join(", ")));
        }
        if bindings.is_empty() && named.is_empty() {
            binding.push_str(&format!("{value}; "));
        }
        // Keep the line count: the statement's newlines follow the binding.
        let newlines = src[t.start..end].matches('\n').count();
        binding.push_str(&"\n".repeat(newlines));
        out.push(Import {
            module: name,
            binding,
            range: t.start..end,
        });
        i = j + 2;
    }
    Ok(out)
}

/// The source with its imports replaced by their bindings.
pub fn without_imports(src: &str, imports: &[Import]) -> String {
    let mut out = String::with_capacity(src.len() + 64);
    let mut at = 0;
    for imp in imports {
        out.push_str(&src[at..imp.range.start]);
        out.push_str(&imp.binding);
        at = imp.range.end;
    }
    out.push_str(&src[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_in_strings_comments_templates_and_regexes_do_not_count() {
        let src = "// const x\nvar a = 'let b'; /* await */ var t = `const ${a} let`; var r = /const/g;\nfunction handler(event) { return event.request; }";
        let t = tokens(src).unwrap();
        assert_eq!(refuse_runtime_2(&t), Ok(()));
        assert!(declares_handler(&t));
    }

    #[test]
    fn runtime_2_syntax_is_named_with_its_place() {
        for (src, token, at) in [
            (
                "function handler(e) {\n  const r = e.request;\n  return r; }",
                "const",
                "2:3",
            ),
            (
                "function handler(e) { let r = e.request; return r; }",
                "let",
                "1:23",
            ),
            (
                "async function handler(e) { return e.request; }",
                "async",
                "1:1",
            ),
            (
                "import cf from 'cloudfront';\nfunction handler(e) { return e.request; }",
                "import",
                "1:1",
            ),
        ] {
            let err = refuse_runtime_2(&tokens(src).unwrap()).unwrap_err();
            assert!(
                err.starts_with(&format!("{at}: SyntaxError: Token \"{token}\"")),
                "{err}"
            );
        }
        // Property names and ES5 uses of `let`/`async` as names are fine.
        let ok = "var let_ = 1; var o = { const: 1, let: 2 }; o.await = 3; var async = 4; function handler(e) { return e.request; }";
        assert_eq!(refuse_runtime_2(&tokens(ok).unwrap()), Ok(()));
    }

    #[test]
    fn the_handler_must_be_at_the_top_level() {
        let nested = "function outer() { function handler(e) { return e.request; } }";
        assert!(!declares_handler(&tokens(nested).unwrap()));
        assert!(!declares_handler(
            &tokens("var o = { handler: 1 };").unwrap()
        ));
        assert!(declares_handler(
            &tokens("var handler = function (e) { return e.request; };").unwrap()
        ));
        assert!(declares_handler(
            &tokens("async function handler(e) { return e.request; }").unwrap()
        ));
    }

    #[test]
    fn imports_become_bindings_on_the_same_lines() {
        let src = "import cf from 'cloudfront';\nimport crypto from \"crypto\"\nimport { a, b as c } from 'querystring';\nfunction handler(e) {}\n";
        let t = tokens(src).unwrap();
        let imps = imports(src, &t).unwrap();
        let names: Vec<&str> = imps.iter().map(|i| i.module.as_str()).collect();
        assert_eq!(names, ["cloudfront", "crypto", "querystring"]);
        let out = without_imports(src, &imps);
        assert_eq!(
            out,
            "var cf = __cff_import('cloudfront'); \nvar crypto = __cff_import(\"crypto\"); \nvar { a, b: c } = __cff_import('querystring'); \nfunction handler(e) {}\n"
        );
        assert_eq!(out.lines().count(), src.lines().count());
    }

    #[test]
    fn broken_sources_say_where() {
        assert!(tokens("var s = 'open;\n").unwrap_err().starts_with("1:9"));
        assert!(tokens("function handler(e) {\n")
            .unwrap_err()
            .contains("unclosed"));
        assert!(tokens("var x = `a ${b`;").is_err());
        // Division is not a regular expression.
        assert!(tokens("var x = a / b / c; function handler(e) { return e.request; }").is_ok());
    }
}
