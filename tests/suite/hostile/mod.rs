mod github_headers;
mod jwt_corpus;
mod names;
mod requests;
mod route_property;
