"""The Kopf operator that reconciles Business and LanguageModel resources."""
