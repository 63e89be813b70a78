diesel::table! { users (id) { id -> Integer, } }
