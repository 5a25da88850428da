mod jwt_corpus;
mod names;
mod requests;
