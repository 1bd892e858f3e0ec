//! Lambda runtime identifiers and the base images that implement them.

/// Every runtime identifier Lambda currently offers, with its base image.
pub const RUNTIMES: &[(&str, &str)] = &[
    ("nodejs20.x", "public.ecr.aws/lambda/nodejs:20"),
    ("nodejs22.x", "public.ecr.aws/lambda/nodejs:22"),
    ("nodejs24.x", "public.ecr.aws/lambda/nodejs:24"),
    ("python3.10", "public.ecr.aws/lambda/python:3.10"),
    ("python3.11", "public.ecr.aws/lambda/python:3.11"),
    ("python3.12", "public.ecr.aws/lambda/python:3.12"),
    ("python3.13", "public.ecr.aws/lambda/python:3.13"),
    ("python3.14", "public.ecr.aws/lambda/python:3.14"),
    ("java11", "public.ecr.aws/lambda/java:11"),
    ("java17", "public.ecr.aws/lambda/java:17"),
    ("java21", "public.ecr.aws/lambda/java:21"),
    ("java25", "public.ecr.aws/lambda/java:25"),
    ("dotnet8", "public.ecr.aws/lambda/dotnet:8"),
    ("dotnet9", "public.ecr.aws/lambda/dotnet:9"),
    ("dotnet10", "public.ecr.aws/lambda/dotnet:10"),
    ("ruby3.2", "public.ecr.aws/lambda/ruby:3.2"),
    ("ruby3.3", "public.ecr.aws/lambda/ruby:3.3"),
    ("ruby3.4", "public.ecr.aws/lambda/ruby:3.4"),
    ("provided.al2", "public.ecr.aws/lambda/provided:al2"),
    ("provided.al2023", "public.ecr.aws/lambda/provided:al2023"),
];

/// The base image of a runtime identifier.
pub fn image_of(runtime: &str) -> Option<&'static str> {
    RUNTIMES
        .iter()
        .find(|(id, _)| *id == runtime)
        .map(|(_, image)| *image)
}

/// Custom runtimes bring their own `bootstrap` instead of using one from the image.
pub fn is_custom(runtime: &str) -> bool {
    runtime.starts_with("provided.")
}

/// Whether an image is a custom-runtime base image (`provided:*`).
pub fn is_custom_image(image: &str) -> bool {
    image.starts_with("public.ecr.aws/lambda/provided:")
}

/// The known runtime closest to a misspelt one.
pub fn closest(runtime: &str) -> Option<&'static str> {
    crate::suite::diagnostics::closest(runtime, RUNTIMES.iter().map(|(id, _)| *id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_maps_to_its_image() {
        assert_eq!(
            image_of("python3.11"),
            Some("public.ecr.aws/lambda/python:3.11")
        );
        assert_eq!(
            image_of("nodejs22.x"),
            Some("public.ecr.aws/lambda/nodejs:22")
        );
        assert_eq!(
            image_of("provided.al2023"),
            Some("public.ecr.aws/lambda/provided:al2023")
        );
        assert_eq!(
            image_of("dotnet10"),
            Some("public.ecr.aws/lambda/dotnet:10")
        );
        assert_eq!(image_of("python2.7"), None);
        assert_eq!(RUNTIMES.len(), 20);
    }

    #[test]
    fn misspelt_runtimes_get_a_suggestion() {
        assert_eq!(closest("python3.111"), Some("python3.11"));
        assert_eq!(closest("nodejs22"), Some("nodejs22.x"));
        assert_eq!(closest("provided.al2024"), Some("provided.al2023"));
    }

    #[test]
    fn custom_runtimes() {
        assert!(is_custom("provided.al2023"));
        assert!(!is_custom("python3.12"));
        assert!(is_custom_image("public.ecr.aws/lambda/provided:al2"));
    }
}
