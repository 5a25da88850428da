mod authentication;
mod disconnect;
