diesel::table! { posts (id) { id -> Integer, } }
