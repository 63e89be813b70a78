diesel::table! { items (id) { id -> Integer, } }
