//! Finding codes as a type: raising a code that assets/findings.yaml does not define does not
//! compile.

include!(concat!(env!("OUT_DIR"), "/codes.rs"));

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    /// build.rs reads the catalogue by line; the catalogue's own parser must agree with it.
    #[test]
    fn the_generated_codes_are_the_catalogue_s() {
        let catalog = crate::analysis::Catalog::builtin();
        let parsed: Vec<&str> = catalog.entries().iter().map(|e| &*e.code).collect();
        let generated: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(generated, parsed);
    }
}
