diesel::table! { users (id, order) { id -> Integer, order -> Bool, } }
