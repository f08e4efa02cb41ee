document.addEventListener('DOMContentLoaded',function(){var e=document.getElementById('qms-release-signers');if(e){e.textContent={{ text|js_string }};}});
