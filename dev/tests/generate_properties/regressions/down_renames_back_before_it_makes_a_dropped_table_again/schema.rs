diesel::table! { users (title) { title -> Integer, } }
