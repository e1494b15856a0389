//! Integration tests: one binary, every test spawns the app on port 0 with a
//! fresh database. `TEST_DATABASE=postgres` runs them on PostgreSQL (a new
//! database per test), and `TEST_REDIS_URL` puts rate limits in Redis (a new
//! key prefix per test); script/test runs every combination.

mod access;
mod adapters;
mod announcements;
mod appointments;
mod auth;
mod bills;
mod figures;
mod helpers;
mod hostile;
mod import;
mod inbox;
mod incidents;
mod instances;
mod open311;
mod openapi;
mod pages;
mod patrol;
mod payments;
mod points;
mod push;
mod residence;
mod security;
mod topics;
mod volunteer;
mod votes;
mod wechat;
mod wechatpay;
