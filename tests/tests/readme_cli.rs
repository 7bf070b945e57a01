//! The README's command-line examples are true: every `$ dtpixel …` line in its `sh` blocks is
//! run with the real binary, and its output must match the lines that follow (`…` stands for
//! text that changes from run to run, such as a random cache-buster).

use dtpixel_tests::collector::dtpixel;

/// Splits a shell line into words, honouring single quotes (all the README uses).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Whether `text` matches `pattern`, where each `…` in the pattern matches any run of text.
fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('…');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Each `$ dtpixel …` command of the README's `sh` blocks, with the output lines after it.
fn examples(readme: &str) -> Vec<(String, Vec<String>)> {
    let mut examples: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            examples.push((command.to_string(), Vec::new()));
        } else if let Some((_, output)) = examples.last_mut() {
            output.push(line.to_string());
        }
    }
    examples
        .into_iter()
        .filter(|(command, _)| command.starts_with("dtpixel "))
        .collect()
}

#[test]
fn the_patterns_match_as_documented() {
    assert!(matches("a…c", "abbbc"));
    assert!(matches("abc", "abc"));
    assert!(!matches("abc", "abcd"));
    assert!(!matches("a…c", "abd"));
    assert_eq!(shell_words("parse '/a?b=c d'"), ["parse", "/a?b=c d"]);
}

#[test]
fn readme_command_line_examples_print_what_the_readme_says() {
    let readme = include_str!("../../README.md");
    let examples = examples(readme);
    assert!(
        examples.len() >= 3,
        "the README shows the url, tag and parse commands"
    );
    for (command, expected) in examples {
        let words = shell_words(&command);
        let output = dtpixel().args(&words[1..]).output().expect("run dtpixel");
        assert!(output.status.success(), "`{command}` failed: {output:?}");
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), expected.len(), "`{command}` printed {stdout}");
        for (line, pattern) in lines.iter().zip(&expected) {
            assert!(
                matches(pattern, line),
                "`{command}`:\n  README: {pattern}\n  actual: {line}"
            );
        }
    }
}
