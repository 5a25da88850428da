mod authentication;
mod disconnect;
mod github;
mod kms;
mod logs;
mod names;
mod unavailable;
mod warm_up;
