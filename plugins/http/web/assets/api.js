// The REST API v1 (bosun-http(7)) with the session cookie.  Errors come
// back as ApiError with the daemon's own words; a 401 tells the app to
// show the login.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
// A share link's token: sent as a Bearer credential instead of the cookie.
let bearer = null;
export function setBearer(token) { bearer = token; }
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

export function hasBearer() { return bearer !== null; }

// The request with the page's credential, its failure as an ApiError in
// the daemon's words; the Response when it succeeded.
async function send(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {}};
  if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'unavailable', 'the daemon cannot be reached');
  }
  if (!res.ok) {
    let data = null;
    try { data = JSON.parse(await res.text()); } catch (e) { data = null; }
    const err = data && data.error ? data.error : {};
    if (res.status === 401 && !path.startsWith('/auth/login')) onUnauthorized();
    throw new ApiError(res.status, err.code || 'http_' + res.status,
                       err.message || `${method} ${path}: HTTP ${res.status}`);
  }
  return res;
}

export async function api(method, path, body) {
  const text = await (await send(method, path, body)).text();
  if (!text) return null;
  try { return JSON.parse(text); } catch (e) { return null; }
}

// A GET whose answer is not JSON (an artifact's bytes, a diff): the bytes
// and the response's headers.
export async function apiBytes(path) {
  const res = await send('GET', path);
  return {bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers};
}
